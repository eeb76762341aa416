"""Services decide and change state; each state change is one transaction."""
