namespace BeijingEts.Functions.Uploads;

/// <summary>
/// A Microsoft.Storage.BlobCreated event in the Event Grid event schema: what an Event Grid subscription delivers
/// to the upload-events queue in Azure, and what the local blob-arrival scanner enqueues.
/// </summary>
public sealed record BlobCreatedEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("eventType")] string EventType,
    [property: JsonPropertyName("eventTime")] DateTimeOffset EventTime,
    [property: JsonPropertyName("data")] BlobCreatedEventData Data,
    [property: JsonPropertyName("dataVersion")] string DataVersion,
    [property: JsonPropertyName("metadataVersion")] string MetadataVersion)
{
    public const string BlobCreatedType = "Microsoft.Storage.BlobCreated";

    /// <summary>Container and blob name from the subject: /blobServices/default/containers/{c}/blobs/{name}.</summary>
    public (string Container, string BlobName)? ParseSubject()
    {
        const string containers = "/blobServices/default/containers/";
        const string blobs = "/blobs/";
        if (!Subject.StartsWith(containers, StringComparison.Ordinal)) return null;
        var rest = Subject[containers.Length..];
        var split = rest.IndexOf(blobs, StringComparison.Ordinal);
        return split <= 0 ? null : (rest[..split], rest[(split + blobs.Length)..]);
    }
}

public sealed record BlobCreatedEventData(
    [property: JsonPropertyName("api")] string Api,
    [property: JsonPropertyName("clientRequestId")] string ClientRequestId,
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("eTag")] string ETag,
    [property: JsonPropertyName("contentType")] string ContentType,
    [property: JsonPropertyName("contentLength")] long ContentLength,
    [property: JsonPropertyName("blobType")] string BlobType,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("sequencer")] string Sequencer,
    [property: JsonPropertyName("storageDiagnostics")] BlobCreatedStorageDiagnostics StorageDiagnostics);

public sealed record BlobCreatedStorageDiagnostics([property: JsonPropertyName("batchId")] string BatchId);
