-- brs5-energy: the database and the backup role of the dedicated cluster, run by make install as postgres.
-- The backup role may read every table (pg_read_all_data) and nothing else; the cluster holds only this project.
SELECT format('CREATE DATABASE %I', :'database')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT 'CREATE ROLE energy_backup LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'energy_backup') \gexec
SELECT 'GRANT pg_read_all_data TO energy_backup'
WHERE NOT pg_has_role('energy_backup', 'pg_read_all_data', 'MEMBER') \gexec
