"""The plan's judgement (pure): assessment, scorer, reasons, spread, situation."""
