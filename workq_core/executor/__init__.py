"""The executor: receive item messages, run their handlers, commit outcomes, then settle."""
