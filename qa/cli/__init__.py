"""The `qa` command (`main`): the only place besides the UI launcher that reads flags and the
environment."""
