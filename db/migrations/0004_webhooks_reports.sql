CREATE TABLE "broadcast_timeline_deltas" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "broadcast_timeline_deltas_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"broadcast_id" uuid NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"read" integer DEFAULT 0 NOT NULL,
	"replied" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "broadcast_recipients" ADD COLUMN "status_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "broadcast_timeline_deltas" ADD CONSTRAINT "broadcast_timeline_deltas_broadcast_id_broadcasts_id_fk" FOREIGN KEY ("broadcast_id") REFERENCES "public"."broadcasts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "broadcast_timeline_deltas_broadcast_idx" ON "broadcast_timeline_deltas" USING btree ("broadcast_id","minute");--> statement-breakpoint
CREATE INDEX "broadcast_timeline_deltas_minute_idx" ON "broadcast_timeline_deltas" USING btree ("minute");--> statement-breakpoint
CREATE INDEX "broadcast_recipients_failed_code_idx" ON "broadcast_recipients" USING btree ("broadcast_id","error_code") WHERE "broadcast_recipients"."state" = 'failed';--> statement-breakpoint
CREATE INDEX "broadcast_recipients_stuck_sent_idx" ON "broadcast_recipients" USING btree ("sent_at") WHERE "broadcast_recipients"."state" = 'sent';--> statement-breakpoint
CREATE INDEX "webhook_events_unprocessed_idx" ON "webhook_events" USING btree ("id") WHERE "webhook_events"."processed_at" is null;--> statement-breakpoint
-- Per-minute counts of the ledger's timestamps for reports, appended as signed deltas by
-- statement-level triggers (like the state counters of 0001), so a report of a million
-- recipients sums a few thousand rows instead of scanning the ledger, and stays right whoever
-- writes (dispatcher, webhooks, reconcile). Deleted rows are not counted: they only go with
-- their broadcast, whose deltas cascade away.
CREATE FUNCTION "broadcast_recipients_timeline_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO "broadcast_timeline_deltas" ("broadcast_id", "minute", "sent", "delivered", "read", "replied", "failed")
		SELECT "broadcast_id", "minute", sum("s"), sum("d"), sum("r"), sum("p"), sum("f") FROM (
			SELECT "broadcast_id", date_trunc('minute', "sent_at") AS "minute", 1 AS "s", 0 AS "d", 0 AS "r", 0 AS "p", 0 AS "f" FROM "new_rows" WHERE "sent_at" IS NOT NULL
			UNION ALL SELECT "broadcast_id", date_trunc('minute', "delivered_at"), 0, 1, 0, 0, 0 FROM "new_rows" WHERE "delivered_at" IS NOT NULL
			UNION ALL SELECT "broadcast_id", date_trunc('minute', "read_at"), 0, 0, 1, 0, 0 FROM "new_rows" WHERE "read_at" IS NOT NULL
			UNION ALL SELECT "broadcast_id", date_trunc('minute', "replied_at"), 0, 0, 0, 1, 0 FROM "new_rows" WHERE "replied_at" IS NOT NULL
			UNION ALL SELECT "broadcast_id", date_trunc('minute', "failed_at"), 0, 0, 0, 0, 1 FROM "new_rows" WHERE "failed_at" IS NOT NULL
		) AS "c"
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
$$;--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_timeline_insert" AFTER INSERT ON "broadcast_recipients"
	REFERENCING NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcast_recipients_timeline_changes"();--> statement-breakpoint
CREATE TRIGGER "broadcast_recipients_timeline_update" AFTER UPDATE ON "broadcast_recipients"
	REFERENCING OLD TABLE AS "old_rows" NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "broadcast_recipients_timeline_changes"();--> statement-breakpoint
INSERT INTO "broadcast_timeline_deltas" ("broadcast_id", "minute", "sent", "delivered", "read", "replied", "failed")
SELECT "broadcast_id", "minute", sum("s"), sum("d"), sum("r"), sum("p"), sum("f") FROM (
	SELECT "broadcast_id", date_trunc('minute', "sent_at") AS "minute", 1 AS "s", 0 AS "d", 0 AS "r", 0 AS "p", 0 AS "f" FROM "broadcast_recipients" WHERE "sent_at" IS NOT NULL
	UNION ALL SELECT "broadcast_id", date_trunc('minute', "delivered_at"), 0, 1, 0, 0, 0 FROM "broadcast_recipients" WHERE "delivered_at" IS NOT NULL
	UNION ALL SELECT "broadcast_id", date_trunc('minute', "read_at"), 0, 0, 1, 0, 0 FROM "broadcast_recipients" WHERE "read_at" IS NOT NULL
	UNION ALL SELECT "broadcast_id", date_trunc('minute', "replied_at"), 0, 0, 0, 1, 0 FROM "broadcast_recipients" WHERE "replied_at" IS NOT NULL
	UNION ALL SELECT "broadcast_id", date_trunc('minute', "failed_at"), 0, 0, 0, 0, 1 FROM "broadcast_recipients" WHERE "failed_at" IS NOT NULL
) AS "c"
GROUP BY 1, 2;
