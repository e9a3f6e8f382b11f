-- Trigram matching for the contact search index (contacts_search_trgm_idx). pg_trgm is a
-- trusted extension (PostgreSQL 13+), so a database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
