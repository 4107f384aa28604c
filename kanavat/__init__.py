"""kanavat: questionnaire campaigns over phone, SMS and web chat for Finnish welfare counties."""

__version__ = "0.1.0"
