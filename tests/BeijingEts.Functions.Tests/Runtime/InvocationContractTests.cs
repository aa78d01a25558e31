using BeijingEts.Functions.Hosting.Invocation;
using BeijingEts.Functions.Hosting.Local;

namespace BeijingEts.Functions.Tests.Runtime;

public sealed class InvocationContractTests(FlakyQueueFixture app) : IClassFixture<FlakyQueueFixture>
{
    private static InvocationRequest QueuePayload(string body, int dequeueCount) => new(
        new Dictionary<string, JsonElement> { ["message"] = JsonSerializer.SerializeToElement(body) },
        new Dictionary<string, JsonElement>
        {
            ["DequeueCount"] = JsonSerializer.SerializeToElement(dequeueCount),
            ["Id"] = JsonSerializer.SerializeToElement(Guid.NewGuid().ToString()),
            ["sys"] = JsonSerializer.SerializeToElement(new { MethodName = "FlakyQueueFunction", UtcNow = DateTimeOffset.UtcNow }),
        });

    [Fact]
    public async Task HostPayload_RoundTripsThroughTheInvocationEndpoint()
    {
        var body = "ok-contract-" + Guid.NewGuid();
        var (succeeded, response) = await app.Service<LocalInvoker>().InvokeAsync("FlakyQueueFunction", QueuePayload(body, 4), "inv-1", TestContext.Current.CancellationToken);

        Assert.True(succeeded);
        Assert.NotNull(response);
        Assert.Empty(response.Outputs);
        Assert.Contains(response.Logs, l => l.Contains("succeeded", StringComparison.Ordinal) && l.Contains("inv-1", StringComparison.Ordinal));
        Assert.Null(response.ReturnValue);
        Assert.Equal([4L], app.Attempts.For(body)); // the function saw the message text and the host's DequeueCount
    }

    [Fact]
    public async Task FailingFunction_AnswersNon2xxWithTheErrorInLogs()
    {
        var body = "fail-always-contract-" + Guid.NewGuid();
        var (succeeded, response) = await app.Service<LocalInvoker>().InvokeAsync("FlakyQueueFunction", QueuePayload(body, 1), "inv-2", TestContext.Current.CancellationToken);

        Assert.False(succeeded);
        Assert.Contains(response!.Logs, l => l.Contains("fails on purpose", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvocationEndpoint_IsNotReachableOnThePublicPort()
    {
        var response = await app.Client().PostAsJsonAsync("/FlakyQueueFunction", QueuePayload("ok-public", 1), TestContext.Current.CancellationToken);

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty(app.Attempts.For("ok-public"));
    }
}
