CREATE TABLE "import_contact_ranges" (
	"import_id" uuid NOT NULL,
	"first_id" bigint NOT NULL,
	"last_id" bigint NOT NULL,
	CONSTRAINT "import_contact_ranges_import_id_first_id_pk" PRIMARY KEY("import_id","first_id")
);
--> statement-breakpoint
-- The triggers of 0015 forget an import's ranges with its links. Truncating contacts forgets them
-- too: an identity restarted by TRUNCATE … RESTART IDENTITY would reuse the ids.
CREATE OR REPLACE FUNCTION "import_contacts_forget_imports"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE "import_contacts", "import_contact_ranges";
	ELSE
		DELETE FROM "import_contacts" WHERE "import_id" IN (SELECT "id" FROM "gone");
		DELETE FROM "import_contact_ranges" WHERE "import_id" IN (SELECT "id" FROM "gone");
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "import_contacts_forget_contacts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE "import_contacts", "import_contact_ranges";
	ELSE
		DELETE FROM "import_contacts" WHERE "contact_id" IN (SELECT "id" FROM "gone");
	END IF;
	RETURN NULL;
END $$;
