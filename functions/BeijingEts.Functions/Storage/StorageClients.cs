using Azure.Core;
using Azure.Identity;
using DurableTask.AzureStorage;

namespace BeijingEts.Functions.Storage;

/// <summary>
/// The Table, Blob and Queue clients, built once from AzureWebJobsStorage: a connection string (Azurite's
/// UseDevelopmentStorage=true by default), or in Azure the identity-based AzureWebJobsStorage__accountName
/// (or __blobServiceUri/__queueServiceUri/__tableServiceUri) with DefaultAzureCredential.
/// </summary>
public sealed class StorageClients
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    public StorageClients(IConfiguration configuration, StorageNames names, QueueMessageEncoding messageEncoding)
    {
        Names = names;
        var tableOptions = Counted(new TableClientOptions());
        var blobOptions = Counted(new BlobClientOptions());
        var queueOptions = Counted(new QueueClientOptions { MessageEncoding = messageEncoding });
        var section = configuration.GetSection(ConnectionSetting);
        var connectionString = section.Value;
        if (string.IsNullOrWhiteSpace(connectionString) && IdentityEndpoints(section) is { } endpoints)
        {
            UsesIdentity = true;
            TokenCredential credential = new DefaultAzureCredential();
            Tables = new TableServiceClient(endpoints.Table, credential, tableOptions);
            Blobs = new BlobServiceClient(endpoints.Blob, credential, blobOptions);
            Queues = new QueueServiceClient(endpoints.Queue, credential, queueOptions);
            _durable = () => new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(endpoints.Blob, credential, Counted(new BlobClientOptions())),
                StorageServiceClientProvider.ForQueue(endpoints.Queue, credential, Counted(new QueueClientOptions())),
                StorageServiceClientProvider.ForTable(endpoints.Table, credential, Counted(new TableClientOptions())));
        }
        else
        {
            connectionString = string.IsNullOrWhiteSpace(connectionString) ? "UseDevelopmentStorage=true" : connectionString;
            Tables = new TableServiceClient(connectionString, tableOptions);
            Blobs = new BlobServiceClient(connectionString, blobOptions);
            Queues = new QueueServiceClient(connectionString, queueOptions);
            _durable = () => new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connectionString, Counted(new BlobClientOptions())),
                StorageServiceClientProvider.ForQueue(connectionString, Counted(new QueueClientOptions())),
                StorageServiceClientProvider.ForTable(connectionString, Counted(new TableClientOptions())));
        }
    }

    private readonly Func<StorageAccountClientProvider> _durable;

    /// <summary>
    /// The same account, credential and request counting for the Durable Task Framework's storage provider (its own
    /// clients: it sets its own message encoding and retries).
    /// </summary>
    public StorageAccountClientProvider DurableTaskProvider() => _durable();

    private sealed record Endpoints(Uri Blob, Uri Queue, Uri Table);

    /// <summary>
    /// The identity-based shape, as Azure Functions names it: AzureWebJobsStorage__accountName (public cloud
    /// addresses), and/or __blobServiceUri, __queueServiceUri, __tableServiceUri, which win where given (sovereign
    /// clouds). Null when none is set. A service with neither an address nor an account name is a settings mistake.
    /// </summary>
    private static Endpoints? IdentityEndpoints(IConfigurationSection section)
    {
        var accountName = section["accountName"];
        string[] services = ["blob", "queue", "table"];
        if (string.IsNullOrWhiteSpace(accountName) && services.All(s => string.IsNullOrWhiteSpace(section[$"{s}ServiceUri"]))) return null;
        Uri Endpoint(string service)
        {
            var setting = $"{ConnectionSetting}__{service}ServiceUri";
            if (section[$"{service}ServiceUri"] is { Length: > 0 } uri)
            {
                return Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme == Uri.UriSchemeHttps
                    ? parsed
                    : throw new InvalidOperationException($"{setting} must be an https address, like https://<account>.{service}.core.windows.net; it is '{uri}'.");
            }
            return !string.IsNullOrWhiteSpace(accountName)
                ? new Uri($"https://{accountName}.{service}.core.windows.net")
                : throw new InvalidOperationException($"{setting} is not set: with an identity-based {ConnectionSetting}, set {ConnectionSetting}__accountName, or the blob, queue and table service addresses all three.");
        }
        return new Endpoints(Endpoint("blob"), Endpoint("queue"), Endpoint("table"));
    }

    public StorageNames Names { get; }

    private T Counted<T>(T options) where T : Azure.Core.ClientOptions
    {
        options.AddPolicy(new CountRequests(Names.Prefix), Azure.Core.HttpPipelinePosition.PerRetry);
        return options;
    }

    /// <summary>
    /// Counts every storage request, retries included: the cost figure the benchmark reports per operation. Tagged with
    /// the storage prefix, so one app's requests can be told from another's sharing the process (the tests').
    /// </summary>
    private sealed class CountRequests(string prefix) : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(Azure.Core.HttpMessage message) =>
            EtsTelemetry.StorageRequests.Add(1, new KeyValuePair<string, object?>(EtsTelemetry.StoragePrefixTag, prefix));
    }

    /// <summary>True when storage is reached with a managed identity rather than an account key.</summary>
    public bool UsesIdentity { get; }

    public TableServiceClient Tables { get; }
    public BlobServiceClient Blobs { get; }
    public QueueServiceClient Queues { get; }

    public TableClient Table(string logical) => Tables.GetTableClient(Names.Table(logical));
    public QueueClient Queue(string logical) => Queues.GetQueueClient(Names.Queue(logical));
    public BlobContainerClient Container(string logical) => Blobs.GetBlobContainerClient(Names.Container(logical));
}
