namespace BeijingEts.Functions.Tests.Runtime;

public sealed class HostSettingsTests
{
    [Fact]
    public void RepositoryHostJson_CarriesTheCustomHandlerAndQueueSettings()
    {
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json"))).RootElement;
        var handler = json.GetProperty("customHandler");
        Assert.Equal("BeijingEts.Functions", handler.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.True(handler.TryGetProperty("enableProxyingHttpRequest", out _) || handler.TryGetProperty("enableForwardingHttpRequest", out _));
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", json.GetProperty("extensionBundle").GetProperty("id").GetString());

        var settings = HostSettings.Load(Path.Combine(AppContext.BaseDirectory, "host.json"));
        Assert.Equal(json.GetProperty("extensions").GetProperty("queues").GetProperty("batchSize").GetInt32(), settings.Queues.BatchSize);
        Assert.Equal(json.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32(), settings.Queues.MaxDequeueCount);
    }

    [Fact]
    public void MissingQueueSettings_TakeTheFunctionsHostDefaults()
    {
        var settings = HostSettings.Parse("""{ "version": "2.0" }""");

        Assert.Equal(16, settings.Queues.BatchSize);
        Assert.Equal(8, settings.Queues.NewBatchThreshold);
        Assert.Equal(5, settings.Queues.MaxDequeueCount);
        Assert.Equal(TimeSpan.Zero, settings.Queues.VisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.Queues.MaxPollingInterval);
        Assert.Equal("api", settings.RoutePrefix);
    }

    [Fact]
    public void BatchSizeAboveTheQueueServiceLimit_IsRefused()
    {
        var error = Assert.Throws<InvalidDataException>(() => HostSettings.Parse("""{ "extensions": { "queues": { "batchSize": 64 } } }"""));
        Assert.Contains("1 to 32", error.Message);
    }
}
