"""Closing the loop (issue 23): what came of a campaign told to those who took part, a public
page, and residents' suggestions any day."""
