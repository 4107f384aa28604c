"""Opinion groups for conversations: the math of Polis, written here from its published description.

Small et al., "Polis: Scaling deliberation by mapping high dimensional opinion spaces" (2021) and
the Polis documentation describe the method; none of Polis's (AGPL) code is used. The modules are
pure (numpy and scikit-learn, no store, no I/O):

- ``matrix``: the vote matrix (agree +1, disagree -1, pass 0, missing NaN).
- ``projection``: two principal components; participants projected from the statements they
  voted on and scaled for sparse voting.
- ``clustering``: base clusters, then 2-5 groups chosen by silhouette, kept stable between updates.
- ``repness``: each group's representative statements with Polis's significance tests.
- ``consensus``: group-informed consensus.
- ``priority``: which statement a participant is offered next.
- ``analysis``: all of the above in one update, given the previous update's state.
"""
