-- One database per service (DESIGN.md §3), owned by POSTGRES_USER.
-- The postgres image runs this once, on the first start with an empty data volume.
CREATE DATABASE tessera_tracking;
CREATE DATABASE tessera_profiles;
CREATE DATABASE tessera_segmentation;
CREATE DATABASE tessera_campaigns;
CREATE DATABASE tessera_console;
