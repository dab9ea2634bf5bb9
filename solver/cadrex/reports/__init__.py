"""What a user reads: the result and its files, plan tables, scenario comparison, workbook and plots."""
