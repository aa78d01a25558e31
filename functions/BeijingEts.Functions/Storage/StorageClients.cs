using Azure.Core;
using Azure.Identity;

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
        var accountName = section["accountName"];
        if (string.IsNullOrWhiteSpace(connectionString) && (accountName is not null || section["blobServiceUri"] is not null))
        {
            UsesIdentity = true;
            TokenCredential credential = new DefaultAzureCredential();
            Uri Endpoint(string service) => section[$"{service}ServiceUri"] is { } uri
                ? new Uri(uri)
                : new Uri($"https://{accountName}.{service}.core.windows.net");
            Tables = new TableServiceClient(Endpoint("table"), credential, tableOptions);
            Blobs = new BlobServiceClient(Endpoint("blob"), credential, blobOptions);
            Queues = new QueueServiceClient(Endpoint("queue"), credential, queueOptions);
        }
        else
        {
            connectionString = string.IsNullOrWhiteSpace(connectionString) ? "UseDevelopmentStorage=true" : connectionString;
            Tables = new TableServiceClient(connectionString, tableOptions);
            Blobs = new BlobServiceClient(connectionString, blobOptions);
            Queues = new QueueServiceClient(connectionString, queueOptions);
        }
    }

    public StorageNames Names { get; }

    private static T Counted<T>(T options) where T : Azure.Core.ClientOptions
    {
        options.AddPolicy(new CountRequests(), Azure.Core.HttpPipelinePosition.PerRetry);
        return options;
    }

    /// <summary>Counts every storage request, retries included: the cost figure the benchmark reports per operation.</summary>
    private sealed class CountRequests : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(Azure.Core.HttpMessage message) => EtsTelemetry.StorageRequests.Add(1);
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
