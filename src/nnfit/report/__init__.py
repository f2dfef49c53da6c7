"""What people see: the rich console view and tables, and matplotlib plots."""
