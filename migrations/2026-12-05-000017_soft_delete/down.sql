DROP TABLE deleted_resources;
