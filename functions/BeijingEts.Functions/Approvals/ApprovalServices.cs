using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Approvals;

public static class ApprovalServices
{
    /// <summary>The approval flow and every action that takes a second regulator.</summary>
    public static IServiceCollection AddApprovals(this IServiceCollection services) => services
        .AddSingleton<ApprovalStore>()
        .AddSingleton<ApprovalService>()
        .AddSingleton<IApprovableAction, LedgerTransactionApproval>()
        .AddSingleton<IApprovableAction, AllocationPlanApproval>()
        .AddSingleton<IApprovableAction, ObjectionAdjustmentApproval>()
        .AddSingleton<IApprovableAction, AdjustmentApproval>()
        .AddSingleton<IApprovableAction, AdjustedConfirmationApproval>()
        .AddSingleton<IApprovableAction, AccountClosureApproval>();
}
