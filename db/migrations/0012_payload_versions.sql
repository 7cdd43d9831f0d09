ALTER TABLE "deliveries" ADD COLUMN "payload_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "payload_version" integer DEFAULT 1 NOT NULL;