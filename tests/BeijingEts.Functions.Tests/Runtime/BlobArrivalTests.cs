using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Tests.Runtime;

/// <summary>The consumer is switched off, so the events the scanner enqueues stay on the queue to be counted.</summary>
public sealed class ScannerOnlyFixture : EtsAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        [$"AzureWebJobs.{nameof(RecordBlobArrival)}.Disabled"] = "true",
    };
}

public sealed class BlobArrivalScannerTests(ScannerOnlyFixture app) : IClassFixture<ScannerOnlyFixture>
{
    [Fact]
    public async Task NewBlob_BecomesExactlyOneBlobCreatedEvent()
    {
        var ct = TestContext.Current.CancellationToken;
        var container = app.Storage.Container(StorageNames.Containers.Staging);
        var name = $"reports/2026/{Guid.NewGuid()}/verification.pdf";
        var uploaded = await container.GetBlobClient(name).UploadAsync(BinaryData.FromString("%PDF-1.7 test"), ct);

        var events = app.Queue(StorageNames.Queues.UploadEvents);
        await Eventually.HoldsAsync(async () => (await events.PeekMessagesAsync(32, ct)).Value.Any(m => m.Body.ToString().Contains(name, StringComparison.Ordinal)), "an event is enqueued");
        await Task.Delay(1000, ct); // five more scans at 200 ms: none may announce the blob again

        var messages = (await events.PeekMessagesAsync(32, ct)).Value;
        var message = Assert.Single(messages, m => m.Body.ToString().Contains(name, StringComparison.Ordinal));
        var announced = JsonSerializer.Deserialize<BlobCreatedEvent>(message.Body.ToString())!;
        Assert.Equal("Microsoft.Storage.BlobCreated", announced.EventType);
        Assert.Equal($"/blobServices/default/containers/{container.Name}/blobs/{name}", announced.Subject);
        Assert.Equal(container.GetBlobClient(name).Uri.ToString(), announced.Data.Url);
        Assert.Equal(uploaded.Value.ETag.ToString().Trim('"'), announced.Data.ETag); // Event Grid sends the ETag unquoted
        Assert.Equal(13, announced.Data.ContentLength);
        Assert.Equal("BlockBlob", announced.Data.BlobType);
        Assert.Equal("1", announced.MetadataVersion);
        Assert.StartsWith("/subscriptions/", announced.Topic);
    }

    [Fact]
    public async Task EventSchema_HasTheFieldsEventGridSends()
    {
        var ct = TestContext.Current.CancellationToken;
        var container = app.Storage.Container(StorageNames.Containers.Staging);
        var name = $"schema/{Guid.NewGuid()}.txt";
        await container.GetBlobClient(name).UploadAsync(BinaryData.FromString("x"), ct);

        var events = app.Queue(StorageNames.Queues.UploadEvents);
        JsonElement? found = null;
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var m in (await events.PeekMessagesAsync(32, ct)).Value)
            {
                var json = JsonDocument.Parse(m.Body.ToString()).RootElement;
                if (json.GetProperty("subject").GetString()!.EndsWith(name, StringComparison.Ordinal)) found = json.Clone();
            }
            return found is not null;
        }, "the event for the blob is enqueued");

        string[] top = ["id", "topic", "subject", "eventType", "eventTime", "data", "dataVersion", "metadataVersion"];
        string[] data = ["api", "clientRequestId", "requestId", "eTag", "contentType", "contentLength", "blobType", "url", "sequencer", "storageDiagnostics"];
        Assert.Equal(top.Order(), found!.Value.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(data.Order(), found.Value.GetProperty("data").EnumerateObject().Select(p => p.Name).Order());
    }
}

public sealed class UploadsFixture : EtsAppFixture;

public sealed class BlobArrivalEndToEndTests(UploadsFixture app) : IClassFixture<UploadsFixture>
{
    [Fact]
    public async Task UploadedBlob_IsRecordedOnceByTheArrivalFunction()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"attachments/{Guid.NewGuid()}/fuel-invoices.xlsx";
        await app.Storage.Container(StorageNames.Containers.Staging).GetBlobClient(name).UploadAsync(BinaryData.FromBytes(new byte[2048]), ct);

        var uploads = app.Storage.Table(StorageNames.Tables.Uploads);
        await Eventually.HoldsAsync(async () => (await uploads.GetEntityIfExistsAsync<TableEntity>("uploads", Uri.EscapeDataString(name), cancellationToken: ct)).HasValue,
            "the arrival is recorded");
        var row = (await uploads.GetEntityAsync<TableEntity>("uploads", Uri.EscapeDataString(name), cancellationToken: ct)).Value;
        Assert.Equal(2048, row.GetInt64("ContentLength"));

        var trail = await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/audit?subject={Uri.EscapeDataString("uploads/" + name)}", ct);
        var entry = Assert.Single(trail.GetProperty("entries").EnumerateArray());
        Assert.Equal("upload.arrived", entry.GetProperty("action").GetString());
        Assert.Equal("system:RecordBlobArrival", entry.GetProperty("actor").GetString());
    }
}
