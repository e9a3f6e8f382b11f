ALTER TABLE "broadcast_recipients" DROP CONSTRAINT "broadcast_recipients_broadcast_id_broadcasts_id_fk";
--> statement-breakpoint
ALTER TABLE "broadcast_recipients" DROP CONSTRAINT "broadcast_recipients_contact_id_contacts_id_fk";
--> statement-breakpoint
DROP INDEX "broadcast_recipients_wamid_key";--> statement-breakpoint
CREATE UNIQUE INDEX "broadcast_recipients_wamid_key" ON "broadcast_recipients" USING btree ("wamid") WHERE "broadcast_recipients"."wamid" is not null;--> statement-breakpoint
-- The ledger's references to broadcasts and contacts, enforced once per statement instead of
-- once per row (docs/decisions/017-ledger-references.md). A row-level foreign key runs one
-- lookup-and-lock per inserted row: about 10 s of a million-row freeze.
--
-- Contacts: an insert checks every referenced contact exists; a delete of a referenced contact
-- is refused. The two sides take one advisory lock (shared for inserts, exclusive for deletes)
-- before they look, so a concurrent insert and delete are serialised and the second one to take
-- the lock sees the first one's committed rows (READ COMMITTED: each check takes a fresh snapshot).
-- work_mem: a million contact ids hash in one batch.
CREATE FUNCTION "broadcast_recipients_check_references"() RETURNS trigger LANGUAGE plpgsql
SET "work_mem" = '64MB' AS $$
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		-- A transaction snapshot older than the lock would miss a delete committed while waiting.
		RAISE EXCEPTION 'broadcast_recipients are written in READ COMMITTED transactions only';
	END IF;
	PERFORM pg_advisory_xact_lock_shared('broadcast_recipients'::regclass::oid::int, 0);
	-- Counted rather than EXISTS: the planner would answer EXISTS with a million index probes in
	-- the rows' order, where one hash anti-join reads each side once.
	IF (
		SELECT count(*) FROM "new_rows" AS "n"
		WHERE NOT EXISTS (SELECT 1 FROM "contacts" AS "c" WHERE "c"."id" = "n"."contact_id")
	) > 0 THEN
		RAISE EXCEPTION 'broadcast_recipients references a contact that does not exist'
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	-- A statement touches one broadcast or a few: lock them as a foreign key would, so that a
	-- concurrent delete waits for this transaction and then cascades to its rows.
	IF (SELECT count(*) FROM (
			SELECT 1 FROM "broadcasts" AS "b"
			WHERE "b"."id" IN (SELECT DISTINCT "broadcast_id" FROM "new_rows")
			FOR KEY SHARE OF "b"
		) AS "locked") <> (SELECT count(DISTINCT "broadcast_id") FROM "new_rows") THEN
		RAISE EXCEPTION 'broadcast_recipients references a broadcast that does not exist'
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_references_insert" AFTER INSERT ON "broadcast_recipients"
	REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcast_recipients_check_references"();--> statement-breakpoint
-- A ledger row is never moved to another broadcast or contact.
CREATE FUNCTION "broadcast_recipients_references_fixed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW."broadcast_id" IS DISTINCT FROM OLD."broadcast_id" OR NEW."contact_id" IS DISTINCT FROM OLD."contact_id" THEN
		RAISE EXCEPTION 'a broadcast_recipients row keeps its broadcast and contact'
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_references_update" BEFORE UPDATE OF "broadcast_id", "contact_id"
	ON "broadcast_recipients" FOR EACH ROW EXECUTE FUNCTION "broadcast_recipients_references_fixed"();--> statement-breakpoint
-- ON DELETE RESTRICT for contacts in a ledger.
CREATE FUNCTION "contacts_restrict_ledger"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock('broadcast_recipients'::regclass::oid::int, 0);
	IF EXISTS (SELECT 1 FROM "broadcast_recipients" AS "r" JOIN "old_rows" AS "o" ON "o"."id" = "r"."contact_id") THEN
		RAISE EXCEPTION 'a contact in a broadcast ledger cannot be deleted'
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "contacts_restrict_ledger_delete" AFTER DELETE ON "contacts"
	REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "contacts_restrict_ledger"();--> statement-breakpoint
-- ON DELETE CASCADE from broadcasts to their ledger.
CREATE FUNCTION "broadcasts_cascade_ledger"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM "broadcast_recipients" AS "r" USING "old_rows" AS "o" WHERE "r"."broadcast_id" = "o"."id";
	RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "broadcasts_cascade_ledger_delete" AFTER DELETE ON "broadcasts"
	REFERENCING OLD TABLE AS "old_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcasts_cascade_ledger"();
