"""Rebuild and evaluate the router's learned parts from labelled data.

`python -m router.training.train_complexity` writes `router/complexity_weights.npz`;
`python -m router.training.evaluate_complexity` prints RouteLLM's CPT/APGR figures;
`python -m router.training.evaluate_privacy` prints the privacy scanner's recall and
false-positive rates. Nothing here runs in the app.
"""
