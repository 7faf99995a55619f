"""The database side of brs5-energy: migrations runner, local cluster and settings."""
