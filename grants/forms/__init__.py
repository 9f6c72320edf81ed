"""WTForms forms. They get their context as keyword arguments and never touch the session."""
