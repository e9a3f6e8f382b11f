-- Unlogged tables, one per chunk of a running import, that a second connection fills with COPY
-- while the import's transaction merges the previous chunk (app/lib/imports/run-import.server.ts).
-- They live here so that nothing else ever mistakes them for data, and so they are easy to sweep.
CREATE SCHEMA "import_chunks";
