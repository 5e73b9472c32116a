-- Runs once, when the postgres container initialises an empty data volume
-- (/docker-entrypoint-initdb.d). One database per service (SPEC §7); each service's migrator
-- creates its tables, and would also create its database if this had not.
CREATE DATABASE shop_products;
CREATE DATABASE shop_orders;
CREATE DATABASE shop_notifications;
