ALTER TABLE "import_contacts" DROP CONSTRAINT "import_contacts_import_id_imports_id_fk";
--> statement-breakpoint
ALTER TABLE "import_contacts" DROP CONSTRAINT "import_contacts_contact_id_contacts_id_fk";
--> statement-breakpoint
DROP INDEX "contacts_created_at_idx";--> statement-breakpoint
DROP INDEX "import_contacts_contact_id_idx";
--> statement-breakpoint
-- What the dropped ON DELETE CASCADE did, once per statement instead of once per row.
CREATE FUNCTION "import_contacts_forget_imports"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE "import_contacts";
	ELSE
		DELETE FROM "import_contacts" WHERE "import_id" IN (SELECT "id" FROM "gone");
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "import_contacts_forget_contacts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE "import_contacts";
	ELSE
		DELETE FROM "import_contacts" WHERE "contact_id" IN (SELECT "id" FROM "gone");
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "imports_forget_import_contacts" AFTER DELETE ON "imports"
	REFERENCING OLD TABLE AS "gone" FOR EACH STATEMENT EXECUTE FUNCTION "import_contacts_forget_imports"();
--> statement-breakpoint
CREATE TRIGGER "imports_truncate_import_contacts" AFTER TRUNCATE ON "imports"
	FOR EACH STATEMENT EXECUTE FUNCTION "import_contacts_forget_imports"();
--> statement-breakpoint
CREATE TRIGGER "contacts_forget_import_contacts" AFTER DELETE ON "contacts"
	REFERENCING OLD TABLE AS "gone" FOR EACH STATEMENT EXECUTE FUNCTION "import_contacts_forget_contacts"();
--> statement-breakpoint
CREATE TRIGGER "contacts_truncate_import_contacts" AFTER TRUNCATE ON "contacts"
	FOR EACH STATEMENT EXECUTE FUNCTION "import_contacts_forget_contacts"();
