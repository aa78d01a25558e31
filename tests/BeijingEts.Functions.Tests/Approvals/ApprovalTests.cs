using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Tests.Ledger;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Approvals;

public sealed class ApprovalFixture : FastQueueFixture;

/// <summary>The four-eyes rule: what a regulator proposes takes effect only when a different regulator approves it, once.</summary>
public sealed class ApprovalTests(ApprovalFixture app) : IClassFixture<ApprovalFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private HttpClient Proposer => _ledger.Regulator;
    private HttpClient Approver => app.Approver();
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static int _vintage = 2050;

    /// <summary>A vintage of its own with a plan (cap 1,000,000 t), set through the approval flow.</summary>
    private async Task<int> VintageAsync()
    {
        var vintage = Interlocked.Increment(ref _vintage);
        await app.ApproveAsync(await Proposer.PutAsJsonAsync($"/api/allocation/{vintage}/plan", new
        {
            cap = 1_000_000,
            reserveRatio = 0.05m,
            preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } } },
        }, Ct));
        return vintage;
    }

    private Task<HttpResponseMessage> ProposeIssuanceAsync(int vintage, long quantity, string? id = null) =>
        _ledger.SubmitAsync(Proposer, "issuance", null, "issuance", quantity, vintage: vintage, id: id);

    /// <summary>The body, read from the buffered text so a test may read it more than once.</summary>
    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();

    private async Task<string> ProposalIdAsync(HttpResponseMessage proposed)
    {
        Assert.Equal(HttpStatusCode.Accepted, proposed.StatusCode);
        var receipt = await BodyAsync(proposed);
        Assert.Equal("pending", receipt.GetProperty("status").GetString());
        return receipt.GetProperty("proposalId").GetString()!;
    }

    private async Task<JsonElement> ProposalAsync(string id) => await Proposer.GetFromJsonAsync<JsonElement>($"/api/approvals/{id}", Ct);

    [Fact]
    public async Task Issuance_TakesEffectOnlyWhenAnotherRegulatorApproves_AndBothAreAudited()
    {
        var vintage = await VintageAsync();
        var txId = Guid.NewGuid().ToString("N");

        var proposed = await ProposeIssuanceAsync(vintage, 700, txId);
        var id = await ProposalIdAsync(proposed);
        Assert.Equal("ledger.transaction", (await BodyAsync(proposed)).GetProperty("kind").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Proposer.GetAsync($"/api/ledger/transactions/{txId}", Ct)).StatusCode);
        Assert.Equal(0, await _ledger.HoldingAsync("issuance", vintage: vintage));

        // Every regulator sees the request in the bureau's inbox, the one who must approve it too.
        Assert.Equal($"/api/approvals/{id}", (await Approver.NoticeAsync($"approval-{id}"))!.Value.GetProperty("link").GetString());
        var own = await Proposer.PostAsync($"/api/approvals/{id}/approve", null, Ct);
        Assert.Contains("different regulator", (await own.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
        Assert.Equal("pending", (await ProposalAsync(id)).GetProperty("status").GetString());

        var approved = await BodyAsync(await Approver.PostAsync($"/api/approvals/{id}/approve", null, Ct));
        Assert.Equal("executed", approved.GetProperty("status").GetString());
        Assert.Equal(("local:regulator", "local:regulator:approver"), (approved.GetProperty("proposedBy").GetString(), approved.GetProperty("approvedBy").GetString()));
        Assert.Contains(txId, approved.GetProperty("outcome").GetString());
        Assert.Equal("completed", (await _ledger.OutcomeAsync(txId)).GetProperty("status").GetString());
        Assert.Equal(700, await _ledger.HoldingAsync("issuance", vintage: vintage));

        var trail = (await Proposer.GetFromJsonAsync<JsonElement>($"/api/audit?subject=approvals/{id}", Ct)).GetProperty("entries").EnumerateArray()
            .Select(e => (e.GetProperty("action").GetString(), e.GetProperty("actor").GetString())).Reverse().ToList();
        Assert.Equal([("approval.proposed", "local:regulator"), ("approval.approved", "local:regulator:approver"), ("approval.executed", "local:regulator:approver")], trail);
    }

    [Fact]
    public async Task ApprovingTwice_ExecutesOnce_AndAThirdRegulatorIsTooLate()
    {
        var vintage = await VintageAsync();
        var id = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 100));

        var first = await Approver.PostAsync($"/api/approvals/{id}/approve", null, Ct);
        var again = await Approver.PostAsync($"/api/approvals/{id}/approve", null, Ct);
        var third = await app.Client("regulator", "carol").PostAsync($"/api/approvals/{id}/approve", null, Ct);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, again.StatusCode));
        Assert.Equal("executed", (await BodyAsync(again)).GetProperty("status").GetString());
        await third.AssertProblemAsync(HttpStatusCode.Conflict);
        await _ledger.OutcomeAsync((await ProposalAsync(id)).GetProperty("payload").GetProperty("transactionId").GetString()!);
        Assert.Equal(100, await _ledger.HoldingAsync("issuance", vintage: vintage));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task SubmittingTheSameIssuanceAgain_FindsItsProposal_AndAnotherContentUnderItsIdIs409()
    {
        var vintage = await VintageAsync();
        var txId = Guid.NewGuid().ToString("N");

        var first = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 50, txId));
        var retried = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 50, txId));
        var different = await ProposeIssuanceAsync(vintage, 51, txId);

        Assert.Equal(first, retried);
        await different.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Reject_LeavesStateUntouched_AndCannotThenBeApproved()
    {
        var vintage = Interlocked.Increment(ref _vintage);
        var proposed = await Proposer.PutAsJsonAsync($"/api/allocation/{vintage}/plan", new
        {
            cap = 5_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } } },
        }, Ct);
        var id = await ProposalIdAsync(proposed);

        await (await Proposer.PostAsync($"/api/approvals/{id}/reject", null, Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        var rejected = await BodyAsync(await Approver.PostAsync($"/api/approvals/{id}/reject", null, Ct));

        Assert.Equal(("rejected", "local:regulator:approver"), (rejected.GetProperty("status").GetString(), rejected.GetProperty("rejectedBy").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await Proposer.GetAsync($"/api/allocation/{vintage}/plan", Ct)).StatusCode);
        await (await app.Client("regulator", "carol").PostAsync($"/api/approvals/{id}/approve", null, Ct)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NotFound, (await Proposer.GetAsync($"/api/allocation/{vintage}/plan", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("unit")]
    [InlineData("exchange")]
    [InlineData("district")]
    public async Task NonRegulators_AreRefused403(string role)
    {
        var vintage = await VintageAsync();
        var id = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 10));
        var client = app.Client(role, role switch { "unit" => Lists.TestUnits.NewUscc(), "district" => "朝阳区", _ => null });

        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync($"/api/approvals/{id}/approve", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync($"/api/approvals/{id}/reject", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/approvals?status=pending", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/approvals/{id}", Ct)).StatusCode);
        Assert.Equal("pending", (await ProposalAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Pending_ListsWhatWaits_AndNotWhatWasDecided()
    {
        var vintage = await VintageAsync();
        var waiting = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 10));
        var decided = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 20));
        await Approver.PostAsync($"/api/approvals/{decided}/reject", null, Ct);

        var pending = (await Approver.GetFromJsonAsync<JsonElement>("/api/approvals?status=pending", Ct)).EnumerateArray().ToList();

        Assert.Contains(pending, p => p.GetProperty("proposalId").GetString() == waiting && p.GetProperty("summary").GetString()!.Contains("10 t of BEA"));
        Assert.DoesNotContain(pending, p => p.GetProperty("proposalId").GetString() == decided);
        Assert.All(pending, p => Assert.Equal("pending", p.GetProperty("status").GetString()));
        var bad = await Approver.GetAsync("/api/approvals?status=waiting", Ct);
        Assert.Contains("status must be one of", (await bad.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await Approver.GetAsync("/api/approvals/no-such-proposal", Ct)).StatusCode);
        await (await Approver.PostAsync("/api/approvals/no-such-proposal/approve", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Approver.PostAsync("/api/approvals/a%3Fb/approve", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Approver.GetAsync("/api/approvals/a%23b", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task BadInput_Is4xxAtOnce_AndProposesNothing()
    {
        var before = (await Approver.GetFromJsonAsync<JsonElement>("/api/approvals", Ct)).GetArrayLength();

        await (await _ledger.SubmitAsync(Proposer, "deposit", null, Lists.TestUnits.NewUscc(), 5, 2024, "CCER", "CCER-1")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await _ledger.SubmitAsync(Proposer, "issuance", null, "issuance", -5, vintage: 2050)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await Proposer.PostAsync($"/api/accounts/{Lists.TestUnits.NewUscc()}/closure", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(before, (await Approver.GetFromJsonAsync<JsonElement>("/api/approvals", Ct)).GetArrayLength());
    }

    [Fact]
    public async Task DepositAndReclaim_AreProposedAndApproved()
    {
        var vintage = await VintageAsync();
        var unit = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(Proposer, "issuance", null, "issuance", 300, vintage: vintage);
        await _ledger.SettleAsync(Proposer, "allocation", "issuance", unit, 300, vintage: vintage);

        var deposit = await _ledger.SettleAsync(Proposer, "deposit", null, unit, 40, 2024, "CCER", "CCER-77-0001");
        var reclaim = await _ledger.SettleAsync(Proposer, "reclaim", unit, "issuance", 120, vintage: vintage);

        Assert.Equal(("completed", "completed"), (deposit.GetProperty("status").GetString(), reclaim.GetProperty("status").GetString()));
        Assert.Equal(40, await _ledger.HoldingAsync(unit, "CCER", 2024));
        Assert.Equal(180, await _ledger.HoldingAsync(unit, vintage: vintage));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task Closure_ByTheRegulator_IsProposed_AndFailsWithTheReasonIfTheAccountFilledMeanwhile()
    {
        var vintage = await VintageAsync();
        var empty = await _ledger.NewAccountAsync();
        var filling = await _ledger.NewAccountAsync();

        var closing = await ProposalIdAsync(await Proposer.PostAsync($"/api/accounts/{empty}/closure", null, Ct));
        var refused = await ProposalIdAsync(await Proposer.PostAsync($"/api/accounts/{filling}/closure", null, Ct));
        Assert.Equal("active", (await Proposer.GetFromJsonAsync<JsonElement>($"/api/accounts/{empty}", Ct)).GetProperty("status").GetString());
        await _ledger.SettleAsync(Proposer, "issuance", null, "issuance", 5, vintage: vintage);
        await _ledger.SettleAsync(Proposer, "allocation", "issuance", filling, 5, vintage: vintage);

        var closed = await BodyAsync(await Approver.PostAsync($"/api/approvals/{closing}/approve", null, Ct));
        var failed = await BodyAsync(await Approver.PostAsync($"/api/approvals/{refused}/approve", null, Ct));

        Assert.Equal("executed", closed.GetProperty("status").GetString());
        Assert.Equal("closed", (await Proposer.GetFromJsonAsync<JsonElement>($"/api/accounts/{empty}", Ct)).GetProperty("status").GetString());
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("still holds 5 t of BEA", failed.GetProperty("failureReason").GetString());
        Assert.Equal("active", (await Proposer.GetFromJsonAsync<JsonElement>($"/api/accounts/{filling}", Ct)).GetProperty("status").GetString());
        await (await Proposer.PostAsync($"/api/accounts/{filling}/closure", null, Ct)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task AnApprovalCutOffBeforeExecution_IsFinishedByTheSweep_Once()
    {
        var vintage = await VintageAsync();
        var id = await ProposalIdAsync(await ProposeIssuanceAsync(vintage, 60));
        // The process stopped right after the approval was written: the proposal is approved and nothing was done.
        var store = app.Service<ApprovalStore>();
        var read = (await store.FindAsync(id, Ct))!;
        var approvedAt = DateTimeOffset.UtcNow - ApprovalService.CutOffAfter - TimeSpan.FromMinutes(1);
        Assert.True(await store.TryReplaceAsync(read, read.Proposal.Approve("local:regulator:approver", approvedAt).Proposal, Ct));
        Assert.Equal("approved", (await ProposalAsync(id)).GetProperty("status").GetString());

        using (var scope = app.App.Services.CreateScope())
        {
            var sweep = scope.ServiceProvider.GetRequiredService<FinishApprovedProposals>();
            await sweep.RunAsync(new TimerTriggerInfo(false, null, DateTimeOffset.UtcNow), Ct);
            await sweep.RunAsync(new TimerTriggerInfo(false, null, DateTimeOffset.UtcNow), Ct);
        }
        var again = await BodyAsync(await Approver.PostAsync($"/api/approvals/{id}/approve", null, Ct));

        Assert.Equal("executed", again.GetProperty("status").GetString());
        await _ledger.OutcomeAsync(again.GetProperty("payload").GetProperty("transactionId").GetString()!);
        Assert.Equal(60, await _ledger.HoldingAsync("issuance", vintage: vintage));
    }
}
