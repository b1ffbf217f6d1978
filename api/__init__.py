"""The front doors: the FastAPI service and the command line."""
