CREATE TYPE "public"."starter_state" AS ENUM('scheduled', 'provisioned');--> statement-breakpoint
CREATE TABLE "hr_starters" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "hr_starters_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"org" text NOT NULL,
	"employee_number" text NOT NULL,
	"state" "starter_state" NOT NULL,
	"address" text,
	"given" text,
	"family" text,
	"dob" date,
	"reg_body" text,
	"reg_number" text,
	"route" text NOT NULL,
	"mobile_masked" text,
	"mobile_sealed" text,
	"start_date" date NOT NULL,
	"provision_on" date NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	"imported_by" text NOT NULL,
	"provisioned_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "leaves_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hr_starters" ADD CONSTRAINT "hr_starters_org_organisations_ods_fk" FOREIGN KEY ("org") REFERENCES "public"."organisations"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "hr_starters_employee_idx" ON "hr_starters" USING btree ("org","employee_number");--> statement-breakpoint
CREATE INDEX "hr_starters_employee_number_idx" ON "hr_starters" USING btree ("employee_number");--> statement-breakpoint
CREATE INDEX "hr_starters_due_idx" ON "hr_starters" USING btree ("provision_on") WHERE state = 'scheduled';--> statement-breakpoint
CREATE INDEX "accounts_leaves_idx" ON "accounts" USING btree ("leaves_at") WHERE leaves_at is not null;