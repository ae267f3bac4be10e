"""The grid registry (community → grid → micro-grid, households, people) and the reports filed into it."""
