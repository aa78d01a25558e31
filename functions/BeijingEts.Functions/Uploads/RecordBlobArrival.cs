using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Uploads;

/// <summary>
/// Records every document that arrives in the uploads container, from its BlobCreated event (Event Grid in Azure,
/// the local scanner elsewhere). One row per blob; a repeated event for the same blob version changes nothing.
/// </summary>
[QueueTrigger(StorageNames.Queues.UploadEvents)]
public sealed class RecordBlobArrival(StorageClients storage, AuditLog audit, TimeProvider clock, ILogger<RecordBlobArrival> logger) : IQueueFunction
{
    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var arrival = message.Read<BlobCreatedEvent>();
        if (arrival.EventType != BlobCreatedEvent.BlobCreatedType)
        {
            logger.LogInformation("Ignoring {EventType} event {EventId}", arrival.EventType, arrival.Id);
            return;
        }
        if (arrival.ParseSubject() is not var (container, blobName) || container != storage.Names.Container(StorageNames.Containers.Uploads))
        {
            logger.LogWarning("Event {EventId} is for {Subject}, not the uploads container; ignored", arrival.Id, arrival.Subject);
            return;
        }
        var uploads = storage.Table(StorageNames.Tables.Uploads);
        var key = AuditLog.EncodeKey(blobName);
        var existing = await uploads.GetEntityIfExistsAsync<TableEntity>(UploadRecord.Partition, key, cancellationToken: cancellationToken);
        if (existing.HasValue && existing.Value!.GetString("ETag") == arrival.Data.ETag)
        {
            return; // the same blob version announced twice
        }
        var record = new UploadRecord(blobName, arrival.Data.Url, arrival.Data.ETag, arrival.Data.ContentType, arrival.Data.ContentLength, arrival.EventTime, clock.GetUtcNow(), arrival.Id);
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
        if (existing.HasValue)
        {
            await uploads.UpdateEntityAsync(row, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        else
        {
            await uploads.AddEntityAsync(row, cancellationToken);
        }
        await audit.RecordAsync(Actor.System(nameof(RecordBlobArrival)), "upload.arrived", $"uploads/{blobName}", null, record, cancellationToken);
    }
}

public sealed record UploadRecord(string BlobName, string Url, string ETag, string ContentType, long ContentLength, DateTimeOffset CreatedAt, DateTimeOffset RecordedAt, string EventId)
{
    internal const string Partition = "uploads";
}
