using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs.Models;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Hosting.Local;

/// <summary>
/// Stands in locally for the Event Grid BlobCreated subscription: lists the upload-staging container (where signed links write) and enqueues one
/// BlobCreated event per new blob version on upload-events. A row per blob version (pending, then sent) makes
/// each arrival one event, also across restarts; the event id is derived from the blob's URL and ETag, so a
/// consumer can drop the duplicate that a crash between enqueue and "sent" could leave.
/// </summary>
public sealed class BlobArrivalScanner(StorageClients storage, IConfiguration configuration, ILogger<BlobArrivalScanner> logger)
{
    private const string Partition = "uploads";
    private readonly HashSet<string> _sent = new(StringComparer.Ordinal);

    public TimeSpan Interval { get; } = TimeSpan.FromMilliseconds(configuration.GetValue("Ets:BlobScanIntervalMs", 1000));

    public async Task RunAsync(CancellationToken stopping)
    {
        var loaded = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (!loaded)
                {
                    await LoadSentAsync(stopping);
                    loaded = true;
                }
                await ScanOnceAsync(stopping);
                await Task.Delay(Interval, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                logger.LogWarning(error, "Scanning the uploads container failed; retrying");
                await Task.Delay(Interval, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task LoadSentAsync(CancellationToken cancellationToken)
    {
        var markers = storage.Table(StorageNames.Tables.BlobScan);
        await foreach (var row in markers.QueryAsync<TableEntity>(r => r.PartitionKey == Partition, select: ["RowKey", "State"], cancellationToken: cancellationToken))
        {
            if (row.GetString("State") == "sent") _sent.Add(row.RowKey);
        }
    }

    public async Task ScanOnceAsync(CancellationToken cancellationToken)
    {
        var container = storage.Container(StorageNames.Containers.Staging);
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix: null, cancellationToken))
        {
            var key = MarkerKey(blob.Name, blob.Properties.ETag?.ToString() ?? "");
            if (_sent.Contains(key)) continue;
            await AnnounceAsync(container, blob, key, cancellationToken);
            _sent.Add(key);
        }
    }

    private async Task AnnounceAsync(BlobContainerClient container, BlobItem blob, string key, CancellationToken cancellationToken)
    {
        var markers = storage.Table(StorageNames.Tables.BlobScan);
        var marker = new TableEntity(Partition, key) { ["BlobName"] = blob.Name, ["State"] = "pending" };
        try
        {
            await markers.AddEntityAsync(marker, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            var existing = await markers.GetEntityAsync<TableEntity>(Partition, key, cancellationToken: cancellationToken);
            if (existing.Value.GetString("State") == "sent") return;
        }
        var announcement = ToEvent(container, blob);
        await storage.Queue(StorageNames.Queues.UploadEvents).SendMessageAsync(JsonSerializer.Serialize(announcement), cancellationToken);
        marker["State"] = "sent";
        marker["EventId"] = announcement.Id;
        await markers.UpsertEntityAsync(marker, TableUpdateMode.Replace, cancellationToken);
    }

    internal static BlobCreatedEvent ToEvent(BlobContainerClient container, BlobItem blob)
    {
        var url = container.GetBlobClient(blob.Name).Uri.ToString();
        var etag = blob.Properties.ETag?.ToString() ?? "";
        var id = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(url + "\n" + etag))[..16]).ToString();
        var created = blob.Properties.CreatedOn ?? blob.Properties.LastModified ?? DateTimeOffset.UtcNow;
        return new BlobCreatedEvent(
            id,
            $"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/{container.AccountName}",
            $"/blobServices/default/containers/{container.Name}/blobs/{blob.Name}",
            BlobCreatedEvent.BlobCreatedType,
            created,
            new BlobCreatedEventData(
                blob.Properties.BlobType == BlobType.Block ? "PutBlockList" : "PutBlob",
                id,
                id,
                etag,
                blob.Properties.ContentType ?? "application/octet-stream",
                blob.Properties.ContentLength ?? 0,
                blob.Properties.BlobType == BlobType.Append ? "AppendBlob" : blob.Properties.BlobType == BlobType.Page ? "PageBlob" : "BlockBlob",
                url,
                created.UtcTicks.ToString("x32", System.Globalization.CultureInfo.InvariantCulture),
                new BlobCreatedStorageDiagnostics(id)),
            "",
            "1");
    }

    private static string MarkerKey(string blobName, string etag) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(blobName + "\n" + etag)));
}
