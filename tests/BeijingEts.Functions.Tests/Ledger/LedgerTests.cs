using BeijingEts.Functions.Runtime;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class LedgerFixture : FastQueueFixture;

public sealed class LedgerTests(LedgerFixture app) : IClassFixture<LedgerFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IssueAllocateTransferCancel_MovesEveryTonneOnceAndConserves()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();

        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 10_000)).GetProperty("status").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 3_000)).GetProperty("status").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Exchange, "transfer", a, b, 1_200)).GetProperty("status").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(app.Client("unit", b), "cancellation", b, "cancellation", 200)).GetProperty("status").GetString());

        Assert.Equal(1_800, await _ledger.HoldingAsync(a));
        Assert.Equal(1_000, await _ledger.HoldingAsync(b));
        Assert.Equal(200, await _ledger.HoldingAsync("cancellation"));
        var own = await app.Client("unit", b).GetFromJsonAsync<JsonElement>($"/api/units/{b}/account", Ct);
        Assert.Equal(b, own.GetProperty("accountId").GetString());
        Assert.Equal("active", own.GetProperty("status").GetString());
        var journal = await app.Client("unit", b).GetFromJsonAsync<JsonElement>($"/api/accounts/{b}/journal", Ct);
        Assert.Equal([1_200L, -200L], journal.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("quantity").GetInt64()));
        Assert.Equal([1_200L, 1_000L], journal.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("balance").GetInt64()));
        var row = (await _ledger.CheckAsync()).GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("product").GetString() == "BEA" && r.GetProperty("vintage").GetInt32() == 2025);
        Assert.Equal(10_000, row.GetProperty("issued").GetInt64());
        Assert.Equal(200, row.GetProperty("cancelled").GetInt64());
        Assert.Equal(9_800, row.GetProperty("held").GetInt64());
        Assert.Equal(0, row.GetProperty("drift").GetInt64());
    }

    [Fact]
    public async Task SameTransactionIdTwice_MovesOnce_AndWithOtherContentGives409()
    {
        var a = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 500, vintage: 2030);
        var id = "alloc-" + Guid.NewGuid().ToString("N");

        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 100, vintage: 2030, id: id);
        var again = await _ledger.SubmitAsync(_ledger.Regulator, "allocation", "issuance", a, 100, vintage: 2030, id: id);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        // An allocation by the regulator is a proposal (two regulators): sending it again finds that proposal, already executed.
        var answer = await again.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ledger-" + id, answer.GetProperty("proposalId").GetString());
        Assert.Equal("executed", answer.GetProperty("status").GetString());
        var different = await _ledger.SubmitAsync(_ledger.Regulator, "allocation", "issuance", a, 101, vintage: 2030, id: id);
        Assert.Contains(id, (await different.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);

        await Task.Delay(500, Ct);
        Assert.Equal(100, await _ledger.HoldingAsync(a, vintage: 2030));
    }

    [Fact]
    public async Task Rejections_SayWhy()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();

        var notIssued = await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 10, vintage: 2041);
        Assert.Equal("rejected", notIssued.GetProperty("status").GetString());
        Assert.Contains("has not been issued", notIssued.GetProperty("reason").GetString());

        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 50, vintage: 2040);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 50, vintage: 2040);
        var overdraw = await _ledger.SettleAsync(_ledger.Exchange, "transfer", a, b, 51, vintage: 2040);
        Assert.Equal("rejected", overdraw.GetProperty("status").GetString());
        Assert.Contains("holds 50 t", overdraw.GetProperty("reason").GetString());
        Assert.Equal(50, await _ledger.HoldingAsync(a, vintage: 2040));
        Assert.Equal(0, await _ledger.HoldingAsync(b, vintage: 2040));
    }

    [Theory]
    [InlineData("exchange", "allocation", "allocation is sent by the regulator")]
    [InlineData("exchange", "transfer", "transfer is not sent: trades settle inside the market")]
    [InlineData("regulator", "transfer", "transfer is not sent: trades settle inside the market")]
    [InlineData("unit", "cancellation", "holder of the from account")]
    public async Task WrongRole_Gives403AndRecordsNothing(string role, string type, string expected)
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();
        var id = Guid.NewGuid().ToString("N");
        var (from, to) = type switch { "allocation" => ("issuance", a), "cancellation" => (a, "cancellation"), _ => (a, b) };

        var response = await _ledger.SubmitAsync(app.Client(role, role == "unit" ? b : null), type, from, to, 1, id: id);

        Assert.Contains(expected, (await response.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/ledger/transactions/{id}", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("{\"transactionId\": \"t1\", \"type\": \"transfer\", \"from\": \"A\", \"to\": \"B\", \"product\": \"BEA\", \"vintage\": 2025, \"quantity\": 0}", "positive whole number")]
    [InlineData("{\"transactionId\": \"t2\", \"type\": \"transfer\", \"from\": \"A\", \"to\": \"B\", \"product\": \"BEA\", \"vintage\": 2025, \"quantity\": 1.5}", "a whole number")]
    [InlineData("{\"transactionId\": \"t3\", \"type\": \"transfer\", \"from\": \"A\", \"to\": \"B\", \"product\": \"EUA\", \"vintage\": 2025, \"quantity\": 1}", "product 'EUA' is unknown")]
    [InlineData("{\"transactionId\": \"t/4\", \"type\": \"transfer\", \"from\": \"A\", \"to\": \"B\", \"product\": \"BEA\", \"vintage\": 2025, \"quantity\": 1}", "transactionId must be")]
    [InlineData("{\"transactionId\": \"t5\", \"type\": \"transfer\", \"from\": \"A\", \"to\": \"B\", \"product\": \"CCER\", \"vintage\": 2025, \"quantity\": 1}", "moves by lot")]
    [InlineData("{\"transactionId\": \"t6\", \"type\": \"swap\", \"from\": \"A\", \"to\": \"B\", \"product\": \"BEA\", \"vintage\": 2025, \"quantity\": 1}", "one of issuance")]
    public async Task BadTransaction_Gives400(string json, string expected)
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();

        var response = await _ledger.Exchange.PostAsync("/api/ledger/transactions",
            new StringContent(json.Replace("\"A\"", $"\"{a}\"").Replace("\"B\"", $"\"{b}\""), System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Contains(expected, (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task UnknownAccount_Gives422()
    {
        var a = await _ledger.NewAccountAsync();

        var response = await _ledger.SubmitAsync(_ledger.Regulator, "allocation", "issuance", Lists.TestUnits.NewUscc(), 1);

        Assert.Contains("Unknown account", (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task SuspendedAccount_CannotSendButCanReceive_UntilLifted()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1000, vintage: 2031);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 500, vintage: 2031);

        // A reference is the order's number, not the order: one too long to keep is refused, and nothing is suspended.
        var tooLong = await _ledger.Regulator.PostAsJsonAsync($"/api/accounts/{a}/suspensions", new { reason = "court-freeze", reference = new string('执', 20_000) }, Ct);
        Assert.Contains("at most 500 characters", (await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal("active", (await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{a}", Ct)).GetProperty("status").GetString());

        var suspended = await _ledger.Regulator.PostAsJsonAsync($"/api/accounts/{a}/suspensions", new { reason = "court-freeze", reference = "(2026)京01执123号" }, Ct);
        Assert.Equal(HttpStatusCode.Created, suspended.StatusCode);
        var suspensionId = (await suspended.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("suspensionId").GetString();

        var send = await _ledger.SettleAsync(_ledger.Exchange, "transfer", a, b, 10, vintage: 2031);
        Assert.Equal("rejected", send.GetProperty("status").GetString());
        Assert.Contains("suspended", send.GetProperty("reason").GetString());
        var cancel = await _ledger.SettleAsync(app.Client("unit", a), "cancellation", a, "cancellation", 10, vintage: 2031);
        Assert.Equal("rejected", cancel.GetProperty("status").GetString());
        var receive = await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 100, vintage: 2031);
        Assert.Equal("completed", receive.GetProperty("status").GetString());
        Assert.Equal("suspended", (await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{a}", Ct)).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PostAsync($"/api/accounts/{a}/suspensions/{suspensionId}/lift", null, Ct)).StatusCode);
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Exchange, "transfer", a, b, 10, vintage: 2031)).GetProperty("status").GetString());
        Assert.Equal(590, await _ledger.HoldingAsync(a, vintage: 2031));
    }

    [Fact]
    public async Task Offsets_AreDepositedAndMovedByLot()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();

        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "deposit", null, a, 300, 2024, "CCER", "CCER-1234-000001-000300")).GetProperty("status").GetString());
        var wrongLot = await _ledger.SettleAsync(_ledger.Exchange, "transfer", a, b, 100, 2024, "CCER", "CCER-9999");
        Assert.Equal("rejected", wrongLot.GetProperty("status").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Exchange, "transfer", a, b, 100, 2024, "CCER", "CCER-1234-000001-000300")).GetProperty("status").GetString());

        var account = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{b}", Ct);
        var lot = account.GetProperty("lots").EnumerateArray().Single();
        Assert.Equal("CCER-1234-000001-000300", lot.GetProperty("lot").GetString());
        Assert.Equal(100, lot.GetProperty("quantity").GetInt64());
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task AnAccount_IsSeenByItsHolderAndTheRegulatorOnly()
    {
        var a = await _ledger.NewAccountAsync();

        Assert.Equal(HttpStatusCode.OK, (await app.Client("unit", a).GetAsync($"/api/accounts/{a}", Ct)).StatusCode);
        await (await app.Client("unit", Lists.TestUnits.NewUscc()).GetAsync($"/api/accounts/{a}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await app.Client("unit", a).GetAsync("/api/accounts/issuance", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await app.Client("exchange").GetAsync($"/api/accounts/{a}/journal", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await app.Client("unit", a).GetAsync("/api/ledger/check", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}

public sealed class ResumePendingTests(LedgerFixture app) : IClassFixture<LedgerFixture>
{
    [Fact]
    public async Task TransactionWhoseMessageWasLost_IsSettledByTheResumeTimer()
    {
        var ledger = new LedgerClient(app);
        var a = await ledger.NewAccountAsync();
        await ledger.SettleAsync(ledger.Regulator, "issuance", null, "issuance", 100, vintage: 2038);
        // Recorded two minutes ago, but its queue message never got sent.
        var lost = new BeijingEts.Functions.Ledger.LedgerTransaction("lost-" + Guid.NewGuid().ToString("N"), BeijingEts.Domain.Ledger.TransactionType.Allocation,
            "issuance", a, "BEA", 2038, new BeijingEts.Domain.Ledger.Tonnes(40), null, null, "local:regulator", DateTimeOffset.UtcNow.AddMinutes(-2));
        Assert.Null(await app.Service<BeijingEts.Functions.Ledger.TransactionStore>().TryAddAsync(lost, TestContext.Current.CancellationToken));

        // With nothing left on the queue, a transaction pending past a minute has lost its message.
        await Eventually.HoldsAsync(async () => (await app.Queue("allowance-events").GetPropertiesAsync(TestContext.Current.CancellationToken)).Value.ApproximateMessagesCount == 0,
            "the queue is drained");
        var timer = new Dictionary<string, JsonElement> { ["timer"] = JsonSerializer.SerializeToElement(new { IsPastDue = false }) };
        var (succeeded, _) = await app.Service<BeijingEts.Functions.Hosting.Local.LocalInvoker>().InvokeAsync(
            nameof(BeijingEts.Functions.Ledger.ResumePendingTransactions), new BeijingEts.Functions.Hosting.Invocation.InvocationRequest(timer, []), "resume-1", TestContext.Current.CancellationToken);

        Assert.True(succeeded);
        Assert.Equal("completed", (await ledger.OutcomeAsync(lost.TransactionId)).GetProperty("status").GetString());
        Assert.Equal(40, await ledger.HoldingAsync(a, vintage: 2038));
    }
}
