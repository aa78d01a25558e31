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
        var queueOptions = new QueueClientOptions { MessageEncoding = messageEncoding };
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
            Tables = new TableServiceClient(Endpoint("table"), credential);
            Blobs = new BlobServiceClient(Endpoint("blob"), credential);
            Queues = new QueueServiceClient(Endpoint("queue"), credential, queueOptions);
        }
        else
        {
            connectionString = string.IsNullOrWhiteSpace(connectionString) ? "UseDevelopmentStorage=true" : connectionString;
            Tables = new TableServiceClient(connectionString);
            Blobs = new BlobServiceClient(connectionString);
            Queues = new QueueServiceClient(connectionString, queueOptions);
        }
    }

    public StorageNames Names { get; }

    /// <summary>True when storage is reached with a managed identity rather than an account key.</summary>
    public bool UsesIdentity { get; }

    public TableServiceClient Tables { get; }
    public BlobServiceClient Blobs { get; }
    public QueueServiceClient Queues { get; }

    public TableClient Table(string logical) => Tables.GetTableClient(Names.Table(logical));
    public QueueClient Queue(string logical) => Queues.GetQueueClient(Names.Queue(logical));
    public BlobContainerClient Container(string logical) => Blobs.GetBlobContainerClient(Names.Container(logical));
}
