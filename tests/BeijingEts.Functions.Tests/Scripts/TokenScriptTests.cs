namespace BeijingEts.Functions.Tests.Scripts;

public sealed class TokenScriptFixture : EtsAppFixture;

public sealed class TokenScriptTests(TokenScriptFixture app) : IClassFixture<TokenScriptFixture>
{
    private async Task<string> TokenAsync(params string[] arguments)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), $"key-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(keyFile, app.SigningKey + "\n", TestContext.Current.CancellationToken);
        var (exit, stdout, stderr) = await Repository.RunScriptAsync("token.sh", arguments, new Dictionary<string, string> { ["Auth__SigningKeyFile"] = keyFile });
        Assert.True(exit == 0, stderr);
        Assert.Empty(stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return Assert.Single(lines); // the token and nothing else
    }

    private HttpClient ClientWith(string token)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    [Fact]
    public async Task RegulatorToken_IsAcceptedForARegulatorOperation()
    {
        var client = ClientWith(await TokenAsync("regulator"));

        var response = await client.PutAsJsonAsync("/api/calendar/2039", new { holidays = new[] { "2039-01-01" }, makeupWorkdays = Array.Empty<string>() }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var trail = await client.GetFromJsonAsync<JsonElement>("/api/audit?subject=calendar/2039", TestContext.Current.CancellationToken);
        Assert.Equal("local:regulator", trail.GetProperty("entries")[0].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task NamedRegulatorToken_IsADistinctPerson_WhoMayApproveTheDefaultRegulatorsProposal()
    {
        var ct = TestContext.Current.CancellationToken;
        var regulator = ClientWith(await TokenAsync("regulator"));
        var alice = ClientWith(await TokenAsync("regulator", "alice"));
        var methods = new Dictionary<string, object> { ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } } };

        var proposed = await regulator.PutAsJsonAsync("/api/allocation/2041/plan", new { cap = 1_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m, methods }, ct);
        Assert.Equal(HttpStatusCode.Accepted, proposed.StatusCode);
        var id = (await proposed.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("proposalId").GetString();
        await (await regulator.PostAsync($"/api/approvals/{id}/approve", null, ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        var approved = await alice.PostAsync($"/api/approvals/{id}/approve", null, ct);

        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var proposal = await approved.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(("local:regulator", "local:regulator:alice", "executed"),
            (proposal.GetProperty("proposedBy").GetString(), proposal.GetProperty("approvedBy").GetString(), proposal.GetProperty("status").GetString()));
        var trail = await alice.GetFromJsonAsync<JsonElement>($"/api/audit?subject=allocation/2041/plan", ct);
        Assert.Equal("local:regulator:alice", trail.GetProperty("entries")[0].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task DistrictToken_CarriesTheChineseDistrictNameAsItsScope()
    {
        var client = ClientWith(await TokenAsync("district", "朝阳区"));

        var response = await client.PutAsJsonAsync("/api/calendar/2040", new { holidays = Array.Empty<string>(), makeupWorkdays = Array.Empty<string>() }, TestContext.Current.CancellationToken);

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("your token has district", problem.Detail);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/calendar/2026", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Theory]
    [InlineData("unit")]          // needs the unit's USCC
    [InlineData("inspector")]     // no such role
    [InlineData("exchange", "x")] // the exchange is one
    [InlineData("regulator", "a b")] // a name is one word
    public async Task BadArguments_FailWithAUsageLine(params string[] arguments)
    {
        var (exit, stdout, stderr) = await Repository.RunScriptAsync("token.sh", arguments);

        Assert.NotEqual(0, exit);
        Assert.Empty(stdout);
        Assert.Contains("usage:", stderr);
    }
}
