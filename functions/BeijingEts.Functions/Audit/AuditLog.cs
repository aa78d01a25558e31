using System.Diagnostics;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Audit;

/// <summary>One audit row: who did what to which subject, when, and the state before and after.</summary>
public sealed record AuditRecord(
    string Id,
    DateTimeOffset At,
    string Actor,
    string ActorRole,
    string? ActorScope,
    string Action,
    string Subject,
    JsonElement? Before,
    JsonElement? After,
    string? TraceId);

/// <summary>
/// The append-only audit table. Rows are only ever added (never upserted or deleted), partitioned by subject
/// and keyed newest-first, so a subject's history is one partition scan. Each row has a copy in its actor's
/// partition ("actor:" + the escaped id, which no escaped subject can equal: ':' is always escaped there), so one
/// person's trail is one scan too. Images over the table's property limit go to the audit container and both rows
/// point at them.
/// </summary>
public sealed class AuditLog(StorageClients storage, TimeProvider clock, IHttpContextAccessor http)
{
    private const int InlineLimit = 30_000; // table string properties hold at most 32K UTF-16 characters
    private const string ActorPartitionPrefix = "actor:";

    public async Task<AuditRecord> RecordAsync(Actor actor, string action, string subject, object? before, object? after, CancellationToken cancellationToken)
    {
        var at = clock.GetUtcNow();
        var id = $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}-{Guid.NewGuid():N}";
        var entity = new TableEntity(EncodeKey(subject), id)
        {
            ["At"] = at,
            ["Actor"] = actor.Id,
            ["ActorRole"] = actor.Role,
            ["ActorScope"] = actor.Scope,
            ["Action"] = action,
            ["Subject"] = subject,
            ["TraceId"] = Activity.Current?.TraceId.ToString(),
        };
        var beforeJson = await StoreImageAsync(entity, "Before", id, before, cancellationToken);
        var afterJson = await StoreImageAsync(entity, "After", id, after, cancellationToken);
        var table = storage.Table(StorageNames.Tables.Audit);
        // The two partitions cannot share a batch: both rows are written at once, and before the caller goes on.
        await Task.WhenAll(
            table.AddEntityAsync(entity, cancellationToken),
            table.AddEntityAsync(new TableEntity(entity) { PartitionKey = ActorPartition(actor.Id), RowKey = id }, cancellationToken));
        AuditMark.Of(http.HttpContext)?.Recorded();
        return ToRecord(entity, beforeJson, afterJson); // from the images in hand: an image stored as a blob is not read back
    }

    /// <summary>
    /// Says that this request's success replays a request already recorded (an idempotent retry), so no new row is
    /// owed; without it a state-changing request that answers 2xx with no row is reported (<see cref="AuditRowCheck"/>).
    /// </summary>
    public static void MarkReplayed(HttpContext context) => AuditMark.Of(context)?.Replayed();

    /// <summary><see cref="MarkReplayed"/>, then the answer: <c>return AuditLog.Replayed(http, TypedResults.Ok(view));</c></summary>
    public static T Replayed<T>(HttpContext context, T answer)
    {
        MarkReplayed(context);
        return answer;
    }

    /// <summary>A subject's history, newest first.</summary>
    public Task<IReadOnlyList<AuditRecord>> ReadAsync(string subject, int limit, CancellationToken cancellationToken) =>
        ReadPartitionAsync(EncodeKey(subject), limit, cancellationToken);

    /// <summary>What one actor (by its stable id: Entra oid, else sub) did, newest first.</summary>
    public Task<IReadOnlyList<AuditRecord>> ReadByActorAsync(string actorId, int limit, CancellationToken cancellationToken) =>
        ReadPartitionAsync(ActorPartition(actorId), limit, cancellationToken);

    private async Task<IReadOnlyList<AuditRecord>> ReadPartitionAsync(string partition, int limit, CancellationToken cancellationToken)
    {
        var records = new List<AuditRecord>();
        await foreach (var row in storage.Table(StorageNames.Tables.Audit).QueryAsync<TableEntity>(r => r.PartitionKey == partition, maxPerPage: limit, cancellationToken: cancellationToken))
        {
            records.Add(await ToRecordAsync(row, cancellationToken));
            if (records.Count >= limit) break;
        }
        return records;
    }

    /// <summary>Puts the image on the row, or in a blob the row names when it is too large; returns its JSON.</summary>
    private async Task<string?> StoreImageAsync(TableEntity entity, string name, string id, object? image, CancellationToken cancellationToken)
    {
        if (image is null) return null;
        var json = image is JsonElement element ? element.GetRawText() : JsonSerializer.Serialize(image, AuditJson);
        if (json.Length <= InlineLimit)
        {
            entity[name] = json;
            return json;
        }
        var blob = storage.Container(StorageNames.Containers.Audit).GetBlobClient($"{entity.PartitionKey}/{id}/{name.ToLowerInvariant()}.json");
        await blob.UploadAsync(BinaryData.FromString(json), overwrite: false, cancellationToken);
        entity[name + "Blob"] = blob.Name;
        return json;
    }

    private async Task<AuditRecord> ToRecordAsync(TableEntity row, CancellationToken cancellationToken) =>
        ToRecord(row, await LoadImageAsync(row, "Before", cancellationToken), await LoadImageAsync(row, "After", cancellationToken));

    private static AuditRecord ToRecord(TableEntity row, string? before, string? after) => new(
        row.RowKey,
        row.GetDateTimeOffset("At") ?? default,
        row.GetString("Actor"),
        row.GetString("ActorRole"),
        row.GetString("ActorScope"),
        row.GetString("Action"),
        row.GetString("Subject"),
        before is null ? null : JsonDocument.Parse(before).RootElement.Clone(),
        after is null ? null : JsonDocument.Parse(after).RootElement.Clone(),
        row.GetString("TraceId"));

    private async Task<string?> LoadImageAsync(TableEntity row, string name, CancellationToken cancellationToken)
    {
        var json = row.GetString(name);
        if (json is not null || row.GetString(name + "Blob") is not { } blobName) return json;
        var content = await storage.Container(StorageNames.Containers.Audit).GetBlobClient(blobName).DownloadContentAsync(cancellationToken);
        return content.Value.Content.ToString();
    }

    internal static readonly JsonSerializerOptions AuditJson = new(JsonSerializerDefaults.Web);

    /// <summary>Table keys may not hold / \ # ? or control characters; escaping keeps subjects like "calendar/2027" readable and reversible.</summary>
    internal static string EncodeKey(string subject) => Uri.EscapeDataString(subject);

    private static string ActorPartition(string actorId) => ActorPartitionPrefix + EncodeKey(actorId);
}
