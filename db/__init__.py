"""The database: the migration runner, the repeatable SQL objects, the pg_cron jobs and the local cluster."""
