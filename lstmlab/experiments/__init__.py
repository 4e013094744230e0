"""Experiments: tasks that pair data with models, runs saved on disk, the training command."""
