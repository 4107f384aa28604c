from kanavat.cli import main

main()
