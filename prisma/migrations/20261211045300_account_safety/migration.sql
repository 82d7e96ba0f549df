-- AlterTable: how each passkey was bound to its account, and an administrator's approval for the admin console's
-- "passkey + face" rule (README: "Adding a sign-in factor"). Keys registered before this change were accepted under
-- the earlier rules: they count as approved on upgrade, so administrators who rely on them are not locked out.
ALTER TABLE "passkeys" ADD COLUMN "bound_with" TEXT NOT NULL DEFAULT 'face';
ALTER TABLE "passkeys" ADD COLUMN "approved_at" TIMESTAMP(3);
ALTER TABLE "passkeys" ADD COLUMN "approved_by" UUID;
UPDATE "passkeys" SET "approved_at" = "created_at";

-- AlterTable: the enrolled account a Face Match API record named, so withdrawal and account deletion erase it.
-- Records kept from before name the account only inside the stored answer (when it was not withheld).
ALTER TABLE "match_records" ADD COLUMN "subject_user_id" UUID;
UPDATE "match_records" SET "subject_user_id" = ("result"->'reference'->>'user_id')::uuid
  WHERE "result"->'reference'->>'user_id' ~ '^[0-9a-fA-F-]{36}$';
CREATE INDEX "match_records_subject_user_id_idx" ON "match_records"("subject_user_id");
