using Azure.Storage.Blobs.Models;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Uploads;

/// <summary>
/// Processes a document that arrives in the uploads container through a signed link.
/// </summary>
public interface IUploadHandler
{
    /// <summary>The blob names this handler owns start with this, e.g. "verification/".</summary>
    string Prefix { get; }

    /// <summary>The largest upload this handler takes at this path; a larger one is refused on its event's content length, unread.</summary>
    long MaxBytes(string blobName);

    /// <summary>Records that the upload was refused for its size (it stays in staging, never kept). Idempotent, like <see cref="HandleAsync"/>.</summary>
    Task RefuseAsync(UploadRecord upload, long limit, CancellationToken cancellationToken);

    /// <summary>
    /// Checks and files the upload, by then kept in the write-once uploads container under the same name. Runs again if
    /// the event is delivered again, so it must be idempotent.
    /// </summary>
    Task HandleAsync(UploadRecord upload, CancellationToken cancellationToken);
}

/// <summary>
/// Records every document that arrives in the staging container through a signed link, from its BlobCreated event
/// (Event Grid in Azure, the local scanner elsewhere), then: refuses it unread if the event says it is larger than
/// its handler takes, or copies it into the write-once uploads container and hands it to its handler. One row per
/// blob; a repeated event for the same blob version records nothing new, but is handed on again, so a handler that
/// failed gets its retry.
/// </summary>
[QueueTrigger(StorageNames.Queues.UploadEvents)]
public sealed class RecordBlobArrival(StorageClients storage, IEnumerable<IUploadHandler> handlers, AuditLog audit, TimeProvider clock, ILogger<RecordBlobArrival> logger) : IQueueFunction
{
    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var arrival = message.Read<BlobCreatedEvent>();
        if (arrival.EventType != BlobCreatedEvent.BlobCreatedType)
        {
            logger.LogInformation("Ignoring {EventType} event {EventId}", arrival.EventType, arrival.Id);
            return;
        }
        if (arrival.ParseSubject() is not var (container, blobName) || container != storage.Names.Container(StorageNames.Containers.Staging))
        {
            logger.LogWarning("Event {EventId} is for {Subject}, not the upload-staging container; ignored", arrival.Id, arrival.Subject);
            return;
        }
        var uploads = storage.Table(StorageNames.Tables.Uploads);
        var key = AuditLog.EncodeKey(blobName);
        var existing = await uploads.GetEntityIfExistsAsync<TableEntity>(UploadRecord.Partition, key, cancellationToken: cancellationToken);
        var record = new UploadRecord(blobName, arrival.Data.Url, arrival.Data.ETag, arrival.Data.ContentType, arrival.Data.ContentLength, arrival.EventTime, clock.GetUtcNow(), arrival.Id);
        if (!existing.HasValue || existing.Value!.GetString("ETag") != arrival.Data.ETag)
        {
            await RecordAsync(uploads, key, record, existing.HasValue ? existing.Value : null, cancellationToken);
        }
        var handler = handlers.FirstOrDefault(h => blobName.StartsWith(h.Prefix, StringComparison.Ordinal));
        if (handler is null)
        {
            logger.LogWarning("No handler owns upload {BlobName}; it is recorded and left in staging", blobName);
            return;
        }
        // Decided on the event alone, so an oversized upload is never read, let alone kept.
        var limit = handler.MaxBytes(blobName);
        if (record.ContentLength > limit || !await KeepAsync(blobName, limit, cancellationToken))
        {
            await handler.RefuseAsync(record, limit, cancellationToken);
            return;
        }
        await handler.HandleAsync(record, cancellationToken);
    }

    /// <summary>
    /// Copies the staged blob into the write-once uploads container, streaming; false if it is over the limit after all.
    /// A copy made by an earlier delivery is the same blob (a link cannot overwrite), so it counts as kept.
    /// </summary>
    private async Task<bool> KeepAsync(string blobName, long limit, CancellationToken cancellationToken)
    {
        var kept = storage.Container(StorageNames.Containers.Uploads).GetBlobClient(blobName);
        if (await kept.ExistsAsync(cancellationToken)) return true;
        var staged = await storage.Container(StorageNames.Containers.Staging).GetBlobClient(blobName).DownloadStreamingAsync(cancellationToken: cancellationToken);
        await using var content = staged.Value.Content;
        if (staged.Value.Details.ContentLength > limit) return false;
        try
        {
            await kept.UploadAsync(content, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = staged.Value.Details.ContentType },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status is 409 or 412)
        {
            // another delivery kept it first
        }
        return true;
    }

    private async Task RecordAsync(TableClient uploads, string key, UploadRecord record, TableEntity? existing, CancellationToken cancellationToken)
    {
        var row = new TableEntity(UploadRecord.Partition, key)
        {
            ["BlobName"] = record.BlobName,
            ["Url"] = record.Url,
            ["ETag"] = record.ETag,
            ["ContentType"] = record.ContentType,
            ["ContentLength"] = record.ContentLength,
            ["CreatedAt"] = record.CreatedAt,
            ["RecordedAt"] = record.RecordedAt,
            ["EventId"] = record.EventId,
        };
        if (existing is not null)
        {
            await uploads.UpdateEntityAsync(row, existing.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        else
        {
            await uploads.AddEntityAsync(row, cancellationToken);
        }
        await audit.RecordAsync(Actor.System(nameof(RecordBlobArrival)), "upload.arrived", $"uploads/{record.BlobName}", null, record, cancellationToken);
    }
}

public sealed record UploadRecord(string BlobName, string Url, string ETag, string ContentType, long ContentLength, DateTimeOffset CreatedAt, DateTimeOffset RecordedAt, string EventId)
{
    internal const string Partition = "uploads";
}
