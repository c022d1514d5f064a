"""Records: source records as held, their versions and episodes, and the field specification."""
