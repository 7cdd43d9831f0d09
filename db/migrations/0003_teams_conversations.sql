CREATE TABLE "teams_conversations" (
	"conversation_id" text PRIMARY KEY NOT NULL,
	"tenant" text NOT NULL,
	"conversation_type" text NOT NULL,
	"reference" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
