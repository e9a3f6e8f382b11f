-- The audience freeze inserts a million ledger rows in one statement; two of its statement
-- triggers cost more than they need to (ADR 017, "Freeze cost").
--
-- 1. The contact check. The freeze takes the shared ledger lock BEFORE its INSERT … SELECT, so
--    its statement snapshot is newer than every committed contact delete, and a delete still in
--    flight waits for the freeze's commit and then finds its rows. Every contact it selects
--    therefore exists, and the million-row anti-join proves nothing. The freeze says so with the
--    transaction-local setting pregon.ledger_rows_from_locked_contacts, which it turns off again
--    right after the statement.
CREATE OR REPLACE FUNCTION "broadcast_recipients_check_references"() RETURNS trigger LANGUAGE plpgsql
SET "work_mem" = '64MB' AS $$
DECLARE
	"ids" uuid[];
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		-- A transaction snapshot older than the lock would miss a delete committed while waiting.
		RAISE EXCEPTION 'broadcast_recipients are written in READ COMMITTED transactions only';
	END IF;
	PERFORM pg_advisory_xact_lock_shared('broadcast_recipients'::regclass::oid::int, 0);
	-- Counted rather than EXISTS: the planner would answer EXISTS with a million index probes in
	-- the rows' order, where one hash anti-join reads each side once.
	IF coalesce(current_setting('pregon.ledger_rows_from_locked_contacts', true), '') <> 'on' AND (
		SELECT count(*) FROM "new_rows" AS "n"
		WHERE NOT EXISTS (SELECT 1 FROM "contacts" AS "c" WHERE "c"."id" = "n"."contact_id")
	) > 0 THEN
		RAISE EXCEPTION 'broadcast_recipients references a contact that does not exist'
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	-- A statement touches one broadcast or a few: lock them as a foreign key would, so that a
	-- concurrent delete waits for this transaction and then cascades to its rows.
	-- The ids are gathered in one hashed pass: DISTINCT, twice, sorted a million uuids twice.
	SELECT array_agg("g"."broadcast_id") INTO "ids"
	FROM (SELECT "broadcast_id" FROM "new_rows" GROUP BY "broadcast_id") AS "g";
	IF (SELECT count(*) FROM (
			SELECT 1 FROM "broadcasts" AS "b" WHERE "b"."id" = ANY ("ids") FOR KEY SHARE OF "b"
		) AS "locked") <> coalesce(cardinality("ids"), 0) THEN
		RAISE EXCEPTION 'broadcast_recipients references a broadcast that does not exist'
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END
$$;--> statement-breakpoint
--    The broadcasts the rows belong to are now gathered in one hashed pass.
--
-- 2. The timeline on insert read the new rows five times (one per timestamp); it now reads them
--    once, and a frozen ledger, whose rows have no timestamps yet, adds nothing.
CREATE OR REPLACE FUNCTION "broadcast_recipients_timeline_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO "broadcast_timeline_deltas" ("broadcast_id", "minute", "sent", "delivered", "read", "replied", "failed")
		SELECT "n"."broadcast_id", "c"."minute", sum("c"."s"), sum("c"."d"), sum("c"."r"), sum("c"."p"), sum("c"."f")
		FROM "new_rows" AS "n"
		CROSS JOIN LATERAL (VALUES
			(date_trunc('minute', "n"."sent_at"), 1, 0, 0, 0, 0),
			(date_trunc('minute', "n"."delivered_at"), 0, 1, 0, 0, 0),
			(date_trunc('minute', "n"."read_at"), 0, 0, 1, 0, 0),
			(date_trunc('minute', "n"."replied_at"), 0, 0, 0, 1, 0),
			(date_trunc('minute', "n"."failed_at"), 0, 0, 0, 0, 1)
		) AS "c" ("minute", "s", "d", "r", "p", "f")
		WHERE ("n"."sent_at" IS NOT NULL OR "n"."delivered_at" IS NOT NULL OR "n"."read_at" IS NOT NULL
				OR "n"."replied_at" IS NOT NULL OR "n"."failed_at" IS NOT NULL)
			AND "c"."minute" IS NOT NULL
		GROUP BY 1, 2;
	ELSE
		INSERT INTO "broadcast_timeline_deltas" ("broadcast_id", "minute", "sent", "delivered", "read", "replied", "failed")
		SELECT "broadcast_id", "minute", sum("s"), sum("d"), sum("r"), sum("p"), sum("f") FROM (
			SELECT "n"."broadcast_id",
				"o"."sent_at" AS "os", "n"."sent_at" AS "ns", "o"."delivered_at" AS "od", "n"."delivered_at" AS "nd",
				"o"."read_at" AS "orr", "n"."read_at" AS "nr", "o"."replied_at" AS "op", "n"."replied_at" AS "np",
				"o"."failed_at" AS "of", "n"."failed_at" AS "nf"
			FROM "old_rows" AS "o" JOIN "new_rows" AS "n" ON "n"."id" = "o"."id"
			WHERE "o"."sent_at" IS DISTINCT FROM "n"."sent_at" OR "o"."delivered_at" IS DISTINCT FROM "n"."delivered_at"
				OR "o"."read_at" IS DISTINCT FROM "n"."read_at" OR "o"."replied_at" IS DISTINCT FROM "n"."replied_at"
				OR "o"."failed_at" IS DISTINCT FROM "n"."failed_at"
		) AS "x"
		CROSS JOIN LATERAL (VALUES
			(date_trunc('minute', "os"), CASE WHEN "os" IS DISTINCT FROM "ns" THEN -1 ELSE 0 END, 0, 0, 0, 0),
			(date_trunc('minute', "ns"), CASE WHEN "os" IS DISTINCT FROM "ns" THEN 1 ELSE 0 END, 0, 0, 0, 0),
			(date_trunc('minute', "od"), 0, CASE WHEN "od" IS DISTINCT FROM "nd" THEN -1 ELSE 0 END, 0, 0, 0),
			(date_trunc('minute', "nd"), 0, CASE WHEN "od" IS DISTINCT FROM "nd" THEN 1 ELSE 0 END, 0, 0, 0),
			(date_trunc('minute', "orr"), 0, 0, CASE WHEN "orr" IS DISTINCT FROM "nr" THEN -1 ELSE 0 END, 0, 0),
			(date_trunc('minute', "nr"), 0, 0, CASE WHEN "orr" IS DISTINCT FROM "nr" THEN 1 ELSE 0 END, 0, 0),
			(date_trunc('minute', "op"), 0, 0, 0, CASE WHEN "op" IS DISTINCT FROM "np" THEN -1 ELSE 0 END, 0),
			(date_trunc('minute', "np"), 0, 0, 0, CASE WHEN "op" IS DISTINCT FROM "np" THEN 1 ELSE 0 END, 0),
			(date_trunc('minute', "of"), 0, 0, 0, 0, CASE WHEN "of" IS DISTINCT FROM "nf" THEN -1 ELSE 0 END),
			(date_trunc('minute', "nf"), 0, 0, 0, 0, CASE WHEN "of" IS DISTINCT FROM "nf" THEN 1 ELSE 0 END)
		) AS "c" ("minute", "s", "d", "r", "p", "f")
		WHERE "c"."minute" IS NOT NULL AND ("s" <> 0 OR "d" <> 0 OR "r" <> 0 OR "p" <> 0 OR "f" <> 0)
		GROUP BY 1, 2
		HAVING sum("s") <> 0 OR sum("d") <> 0 OR sum("r") <> 0 OR sum("p") <> 0 OR sum("f") <> 0;
	END IF;
	RETURN NULL;
END
$$;
