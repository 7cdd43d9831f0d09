CREATE TABLE "directory_drift" (
	"key" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"address" text,
	"directory_id" text,
	"org" text,
	"detail" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "directory_users" (
	"id" text PRIMARY KEY NOT NULL,
	"user_principal_name" text,
	"address" text,
	"given" text,
	"surname" text,
	"display_name" text,
	"account_enabled" boolean,
	"removed" text,
	"removed_at" timestamp with time zone,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "directory_drift_org_idx" ON "directory_drift" USING btree ("org");--> statement-breakpoint
CREATE INDEX "directory_users_address_idx" ON "directory_users" USING btree ("address");