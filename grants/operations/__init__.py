"""Domain operations: every change of the data goes through here. They flush, never commit."""
