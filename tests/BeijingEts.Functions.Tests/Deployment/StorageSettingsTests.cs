using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace BeijingEts.Functions.Tests.Deployment;

/// <summary>
/// The app reaches storage the way the settings say, locally with a key and in Azure with its managed identity,
/// under the setting names Azure Functions uses. Nothing here calls Azure: the clients are only built.
/// </summary>
public sealed class StorageSettingsTests
{
    /// <summary>Clients from app settings given as environment variables, as Azure passes them (__ nests a key).</summary>
    private static StorageClients Clients(params (string Key, string Value)[] settings)
    {
        var prefix = $"ETSTEST_{Guid.NewGuid():N}_"; // this test's own variables, whatever else runs in the process
        foreach (var (key, value) in settings) Environment.SetEnvironmentVariable(prefix + key, value);
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();
            return new StorageClients(configuration, new StorageNames(""), QueueMessageEncoding.Base64);
        }
        finally
        {
            foreach (var (key, _) in settings) Environment.SetEnvironmentVariable(prefix + key, null);
        }
    }

    [Fact]
    public void NoSetting_UsesAzuriteWithItsKey_AndSignsLinksWithIt()
    {
        var clients = Clients();

        Assert.False(clients.UsesIdentity);
        Assert.Equal("devstoreaccount1", clients.Blobs.AccountName);
        Assert.True(clients.Container(StorageNames.Containers.Uploads).GetBlobClient("a.pdf").CanGenerateSasUri);
    }

    [Fact]
    public void ConnectionString_UsesTheAccountKey()
    {
        var key = Convert.ToBase64String(new byte[64]);
        var clients = Clients(("AzureWebJobsStorage", $"DefaultEndpointsProtocol=https;AccountName=etsdata;AccountKey={key};EndpointSuffix=core.windows.net"));

        Assert.False(clients.UsesIdentity);
        Assert.Equal(new Uri("https://etsdata.blob.core.windows.net/"), clients.Blobs.Uri);
        Assert.True(clients.Container(StorageNames.Containers.Uploads).GetBlobClient("a.pdf").CanGenerateSasUri);
    }

    [Fact]
    public void AccountName_UsesTheManagedIdentity_AndSignsUserDelegationLinks()
    {
        var clients = Clients(("AzureWebJobsStorage__accountName", "etsdata"));

        Assert.True(clients.UsesIdentity);
        Assert.Equal(new Uri("https://etsdata.blob.core.windows.net/"), clients.Blobs.Uri);
        Assert.Equal(new Uri("https://etsdata.queue.core.windows.net/"), clients.Queues.Uri);
        Assert.Equal(new Uri("https://etsdata.table.core.windows.net/"), clients.Tables.Uri);
        // No key to sign with: UploadLinks asks for a user-delegation key instead (Storage Blob Delegator).
        Assert.False(clients.Container(StorageNames.Containers.Uploads).GetBlobClient("a.pdf").CanGenerateSasUri);
    }

    [Fact]
    public void ServiceAddresses_WinOverTheAccountName_SoSovereignCloudsWork()
    {
        var clients = Clients(
            ("AzureWebJobsStorage__accountName", "etsdata"),
            ("AzureWebJobsStorage__blobServiceUri", "https://etsdata.blob.core.chinacloudapi.cn/"),
            ("AzureWebJobsStorage__queueServiceUri", "https://etsdata.queue.core.chinacloudapi.cn/"),
            ("AzureWebJobsStorage__tableServiceUri", "https://etsdata.table.core.chinacloudapi.cn/"));

        Assert.True(clients.UsesIdentity);
        Assert.Equal(new Uri("https://etsdata.blob.core.chinacloudapi.cn/"), clients.Blobs.Uri);
        Assert.Equal(new Uri("https://etsdata.queue.core.chinacloudapi.cn/"), clients.Queues.Uri);
        Assert.Equal(new Uri("https://etsdata.table.core.chinacloudapi.cn/"), clients.Tables.Uri);
    }

    [Fact]
    public void ConnectionString_WinsOverIdentitySettings()
    {
        var clients = Clients(("AzureWebJobsStorage", "UseDevelopmentStorage=true"), ("AzureWebJobsStorage__accountName", "etsdata"));

        Assert.False(clients.UsesIdentity);
        Assert.Equal("devstoreaccount1", clients.Blobs.AccountName);
    }

    [Fact]
    public void ABlobAddressWithoutTheOthers_IsRefusedNamingTheMissingSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Clients(("AzureWebJobsStorage__blobServiceUri", "https://etsdata.blob.core.windows.net/")));

        Assert.Contains("AzureWebJobsStorage__queueServiceUri", error.Message);
    }

    [Fact]
    public void APlainHttpAddress_IsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Clients(("AzureWebJobsStorage__accountName", "etsdata"), ("AzureWebJobsStorage__blobServiceUri", "http://etsdata.blob.core.windows.net/")));

        Assert.Contains("https", error.Message);
    }
}
