CREATE TYPE "public"."chat_platform" AS ENUM('slack', 'teams');--> statement-breakpoint
CREATE TABLE "chat_links" (
	"platform" "chat_platform" NOT NULL,
	"tenant" text NOT NULL,
	"user_id" text NOT NULL,
	"address" text NOT NULL,
	"linked_by" text NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "chat_links_platform_tenant_user_id_pk" PRIMARY KEY("platform","tenant","user_id")
);
--> statement-breakpoint
CREATE TABLE "handled_deliveries" (
	"key" text PRIMARY KEY NOT NULL,
	"handled_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"platform" "chat_platform" NOT NULL,
	"tenant" text NOT NULL,
	"channel_id" text NOT NULL,
	"org" text NOT NULL,
	"subscribed_by" text NOT NULL,
	"subscribed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "subscriptions_platform_tenant_channel_id_org_pk" PRIMARY KEY("platform","tenant","channel_id","org")
);
--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_org_organisations_ods_fk" FOREIGN KEY ("org") REFERENCES "public"."organisations"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_links_address_idx" ON "chat_links" USING btree ("address");--> statement-breakpoint
CREATE INDEX "subscriptions_org_idx" ON "subscriptions" USING btree ("org");