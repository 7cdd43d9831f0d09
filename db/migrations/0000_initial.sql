CREATE TYPE "public"."account_kind" AS ENUM('person', 'shared');--> statement-breakpoint
CREATE TYPE "public"."account_status" AS ENUM('pending', 'active', 'leaver', 'inactive', 'deleted');--> statement-breakpoint
CREATE TYPE "public"."dspt_status" AS ENUM('standards-exceeded', 'standards-met', 'approaching-standards', 'standards-not-met', 'not-published');--> statement-breakpoint
CREATE TYPE "public"."org_kind" AS ENUM('trust', 'icb', 'gp-practice', 'pharmacy', 'dental', 'care-home', 'gp-locum');--> statement-breakpoint
CREATE TYPE "public"."outbox_state" AS ENUM('pending', 'delivered', 'failed');--> statement-breakpoint
CREATE TYPE "public"."platform" AS ENUM('cli', 'slack', 'teams', 'schedule', 'import');--> statement-breakpoint
CREATE TYPE "public"."role_name" AS ENUM('nas-admin', 'local-admin', 'site-owner', 'manager');--> statement-breakpoint
CREATE TYPE "public"."transfer_state" AS ENUM('open', 'completed', 'superseded');--> statement-breakpoint
CREATE TYPE "public"."warning_clock" AS ENUM('grace', 'inactivity');--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "accounts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"address" text NOT NULL,
	"kind" "account_kind" NOT NULL,
	"status" "account_status" NOT NULL,
	"home_org" text NOT NULL,
	"given" text,
	"family" text,
	"dob" date,
	"mobile_hash" text,
	"mobile_masked" text,
	"reg_body" text,
	"reg_number" text,
	"credential_route" text,
	"created_at" timestamp with time zone NOT NULL,
	"status_changed_at" timestamp with time zone NOT NULL,
	"first_login_at" timestamp with time zone,
	"mfa_registered" boolean DEFAULT false NOT NULL,
	"last_activity_at" timestamp with time zone,
	"grace_expires_at" timestamp with time zone,
	"inactive_since" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"purged_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"platform" "platform" NOT NULL,
	"action" text NOT NULL,
	"address" text,
	"org" text,
	"from_status" "account_status",
	"to_status" "account_status",
	"reason" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "cron_runs" (
	"key" text PRIMARY KEY NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "organisations" (
	"ods" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" "org_kind" NOT NULL,
	"dspt" "dspt_status",
	"dspt_updated_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"created_at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"audience" jsonb NOT NULL,
	"payload" jsonb NOT NULL,
	"state" "outbox_state" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "roles" (
	"address" text NOT NULL,
	"role" "role_name" NOT NULL,
	"org" text DEFAULT '' NOT NULL,
	"granted_by" text NOT NULL,
	"granted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "roles_address_role_org_pk" PRIMARY KEY("address","role","org")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transfer_requests" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "transfer_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"from_org" text NOT NULL,
	"to_org" text NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"leaver_at" timestamp with time zone,
	"accepted_at" timestamp with time zone,
	"accepted_by" text,
	"completed_at" timestamp with time zone,
	"state" "transfer_state" DEFAULT 'open' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "warnings_sent" (
	"account_id" integer NOT NULL,
	"clock" "warning_clock" NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"threshold_days" integer NOT NULL,
	"queued_at" timestamp with time zone NOT NULL,
	CONSTRAINT "warnings_sent_account_id_clock_due_at_threshold_days_pk" PRIMARY KEY("account_id","clock","due_at","threshold_days")
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_home_org_organisations_ods_fk" FOREIGN KEY ("home_org") REFERENCES "public"."organisations"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_requests" ADD CONSTRAINT "transfer_requests_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "warnings_sent" ADD CONSTRAINT "warnings_sent_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_address_key" ON "accounts" USING btree ("address");--> statement-breakpoint
CREATE INDEX "accounts_home_status_idx" ON "accounts" USING btree ("home_org","status");--> statement-breakpoint
CREATE INDEX "accounts_grace_due_idx" ON "accounts" USING btree ("grace_expires_at") WHERE status = 'leaver';--> statement-breakpoint
CREATE INDEX "accounts_activity_due_idx" ON "accounts" USING btree ("last_activity_at") WHERE status = 'active' and kind = 'person';--> statement-breakpoint
CREATE INDEX "accounts_retention_due_idx" ON "accounts" USING btree ("inactive_since") WHERE status = 'inactive';--> statement-breakpoint
CREATE INDEX "accounts_restore_due_idx" ON "accounts" USING btree ("deleted_at") WHERE status = 'deleted' and purged_at is null;--> statement-breakpoint
CREATE INDEX "accounts_reg_idx" ON "accounts" USING btree ("reg_body","reg_number");--> statement-breakpoint
CREATE INDEX "accounts_dob_idx" ON "accounts" USING btree ("dob");--> statement-breakpoint
CREATE INDEX "accounts_mobile_idx" ON "accounts" USING btree ("mobile_hash");--> statement-breakpoint
CREATE INDEX "audit_address_idx" ON "audit_log" USING btree ("address","id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("available_at") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "roles_org_idx" ON "roles" USING btree ("org","role");--> statement-breakpoint
CREATE UNIQUE INDEX "transfer_one_open_idx" ON "transfer_requests" USING btree ("account_id") WHERE state = 'open';