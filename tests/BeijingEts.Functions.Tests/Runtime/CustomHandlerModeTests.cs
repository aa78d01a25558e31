using BeijingEts.Functions.Hosting.Invocation;
using BeijingEts.Functions.Uploads;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Runtime;

/// <summary>The app as the Functions host runs it: FUNCTIONS_CUSTOMHANDLER_PORT set, no local runtime, Entra ID tokens.</summary>
public sealed class CustomHandlerFixture : EtsAppFixture
{
    public EntraTestIssuer Entra { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(Entra.Settings)
    {
        ["FUNCTIONS_CUSTOMHANDLER_PORT"] = TcpPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    protected override void ConfigureServices(IServiceCollection services) => Entra.Configure(services);

    public override string Token(string role, string? scope = null) => Entra.Create(role, scope);
}

public sealed class CustomHandlerModeTests(CustomHandlerFixture app) : IClassFixture<CustomHandlerFixture>
{
    [Fact]
    public async Task UnderTheHost_NoLocalTriggersRunAndTheApiIsServedOnTheHandlerPort()
    {
        var ct = TestContext.Current.CancellationToken;
        var runtime = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/runtime/functions", ct);
        Assert.Equal("custom-handler", runtime.GetProperty("mode").GetString());

        var name = $"host-mode/{Guid.NewGuid()}.pdf";
        await app.Storage.Container(StorageNames.Containers.Staging).GetBlobClient(name).UploadAsync(BinaryData.FromString("x"), ct);
        await Task.Delay(1000, ct); // the local scanner, were it running, would have announced the blob by now
        Assert.Empty((await app.Queue(StorageNames.Queues.UploadEvents).PeekMessagesAsync(32, ct)).Value);
    }

    [Fact]
    public async Task HostPayloadOverLoopback_InvokesTheQueueFunction()
    {
        var ct = TestContext.Current.CancellationToken;
        var container = app.Storage.Container(StorageNames.Containers.Staging);
        var name = $"host-invoked/{Guid.NewGuid()}.pdf";
        var blob = await container.GetBlobClient(name).UploadAsync(BinaryData.FromString("%PDF"), ct);
        var arrival = new
        {
            id = Guid.NewGuid().ToString(),
            topic = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z",
            subject = $"/blobServices/default/containers/{container.Name}/blobs/{name}",
            eventType = "Microsoft.Storage.BlobCreated",
            eventTime = DateTimeOffset.UtcNow,
            data = new
            {
                api = "PutBlob", clientRequestId = "c", requestId = "r", eTag = blob.Value.ETag.ToString().Trim('"'),
                contentType = "application/pdf", contentLength = 4, blobType = "BlockBlob",
                url = container.GetBlobClient(name).Uri.ToString(), sequencer = "0", storageDiagnostics = new { batchId = "b" },
            },
            dataVersion = "",
            metadataVersion = "1",
        };
        var payload = new
        {
            Data = new Dictionary<string, object> { ["message"] = JsonSerializer.Serialize(arrival) },
            Metadata = new { DequeueCount = 1, Id = Guid.NewGuid().ToString(), sys = new { MethodName = nameof(RecordBlobArrival) } },
        };

        var response = await app.Client().PostAsJsonAsync("/" + nameof(RecordBlobArrival), payload, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<InvocationResponse>(ct);
        Assert.NotNull(answer!.Logs);
        var row = await app.Storage.Table(StorageNames.Tables.Uploads).GetEntityIfExistsAsync<TableEntity>("uploads", Uri.EscapeDataString(name), cancellationToken: ct);
        Assert.True(row.HasValue);
    }

    [Fact]
    public async Task MalformedEvent_AnswersNon2xxSoTheHostRetries()
    {
        var payload = new { Data = new Dictionary<string, object> { ["message"] = "{ not json" }, Metadata = new { DequeueCount = 1 } };

        var response = await app.Client().PostAsJsonAsync("/" + nameof(RecordBlobArrival), payload, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<InvocationResponse>(TestContext.Current.CancellationToken);
        Assert.Contains(answer!.Logs, l => l.Contains("failed", StringComparison.Ordinal));
    }
}
