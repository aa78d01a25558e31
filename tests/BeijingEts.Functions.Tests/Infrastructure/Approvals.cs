namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>
/// The four-eyes rule in tests: what a regulator proposes (a 202 with a proposalId) is approved by a second regulator,
/// <see cref="Approver"/>, a different person from the plain "regulator" token that proposes.
/// </summary>
public static class Approvals
{
    public const string ApproverName = "approver";

    public static HttpClient Approver(this EtsAppFixture app) => app.Client("regulator", ApproverName);

    /// <summary>Approves the proposal <paramref name="proposed"/> answered and returns the proposal as it ended; it must end executed.</summary>
    public static async Task<JsonElement> ApproveAsync(this EtsAppFixture app, HttpResponseMessage proposed, string expectedStatus = "executed")
    {
        var ct = TestContext.Current.CancellationToken;
        var body = await proposed.Content.ReadAsStringAsync(ct);
        Assert.True(proposed.StatusCode == HttpStatusCode.Accepted, $"expected a proposal (202), got {(int)proposed.StatusCode}: {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("proposalId").GetString();
        var approved = await app.Approver().PostAsync($"/api/approvals/{id}/approve", null, ct);
        var proposal = await approved.Content.ReadAsStringAsync(ct);
        Assert.True(approved.StatusCode == HttpStatusCode.OK, $"approving {id}: {(int)approved.StatusCode} {proposal}");
        var ended = JsonDocument.Parse(proposal).RootElement.Clone();
        Assert.True(ended.GetProperty("status").GetString() == expectedStatus, $"proposal {id} ended {proposal}");
        return ended;
    }
}
